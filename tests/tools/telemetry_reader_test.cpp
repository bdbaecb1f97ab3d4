// The telemetry reader: valid events read back field by field; every kind of
// malformed line is a TelemetryError naming the file, the line and the
// problem -- never a crash or another exception.
#include "telemetry_reader.hpp"

#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "event_lines.hpp"

namespace {

using spool::cli::parse_event;
using spool::cli::read_telemetry;
using spool::cli::TelemetryError;
using nlohmann::json;

// The error for `text` as line 7 of "f.jsonl"; fails the test when it parses.
std::string error_of(const std::string& text) {
  try {
    parse_event(text, "f.jsonl", 7);
  } catch (const TelemetryError& e) {
    EXPECT_EQ(e.line(), 7u);
    EXPECT_EQ(std::string(e.what()).rfind("f.jsonl:7: ", 0), 0u) << e.what();
    return e.reason();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a TelemetryError: " << e.what();
    return "other exception";
  }
  ADD_FAILURE() << "accepted: " << text;
  return {};
}

std::string with(const std::string& key, const json& value) {
  json o = json::parse(spool::test::sample_line());
  o[key] = value;
  return o.dump();
}

std::string without(const std::string& key) {
  json o = json::parse(spool::test::sample_line());
  o.erase(key);
  return o.dump();
}

TEST(TelemetryReader, ReadsBackEveryFieldTheRuntimeWrites) {
  spool::Verdict v = spool::test::sample_verdict(3, spool::LaunchMode::persistent, 9, 12'345.5);
  v.forced = true;
  v.exploration = false;
  v.first_use_ns = 777;
  v.parked_ns = 55;
  v.predicted_ns[1] = -1;
  v.race_role = "speculative";
  v.race_verdict = "adopt";
  v.items_failed = 2;
  v.items_run = 7;
  v.failure = "2 items failed";
  const auto e = parse_event(spool::to_json(v), "x", 4);
  EXPECT_EQ(e.line, 4u);
  EXPECT_EQ(e.schema_version, 1);
  EXPECT_EQ(e.run_id, std::string(spool::telemetry_run_id()));
  EXPECT_EQ(e.batch, 3u);
  EXPECT_EQ(e.submit_ns, v.submit_ns);
  EXPECT_EQ(e.start_ns, v.start_ns);
  EXPECT_EQ(e.end_ns, v.end_ns);
  EXPECT_EQ(e.queue_ns(), 500.0);
  EXPECT_EQ(e.mode, spool::LaunchMode::persistent);
  EXPECT_TRUE(e.forced);
  EXPECT_DOUBLE_EQ(e.measured_ns, 12'345.5);
  EXPECT_DOUBLE_EQ(e.first_use_ns, 777);
  EXPECT_DOUBLE_EQ(e.parked_ns, 55);
  EXPECT_DOUBLE_EQ(e.predicted_ns[0], 20'000);
  EXPECT_LT(e.predicted_ns[1], 0);  // null: unavailable
  EXPECT_EQ(e.race_verdict, "adopt");
  EXPECT_EQ(e.items_failed, 2u);
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.failure, "2 items failed");
}

TEST(TelemetryReader, EveryMissingFieldIsNamed) {
  const json o = json::parse(spool::test::sample_line());
  for (const auto& [key, value] : o.items()) {
    if (key == "schema_version") continue;  // its own message, below
    const std::string why = error_of(without(key));
    EXPECT_NE(why.find("missing field '" + key + "'"), std::string::npos) << why;
  }
  json p = o;
  p["predicted_ns"].erase("recorded");
  EXPECT_NE(error_of(p.dump()).find("predicted_ns.recorded"), std::string::npos);
}

TEST(TelemetryReader, EveryFieldOfTheWrongTypeIsNamed) {
  const json o = json::parse(spool::test::sample_line());
  for (const auto& [key, value] : o.items()) {
    // A value of another JSON type than the one written.
    const json wrong = value.is_string() ? json(12) : json("text");
    const std::string why = error_of(with(key, wrong));
    EXPECT_NE(why.find(key), std::string::npos) << key << ": " << why;
  }
}

TEST(TelemetryReader, OutOfRangeValuesAreRefused) {
  EXPECT_NE(error_of(with("items", -3)).find("'items' must not be negative"), std::string::npos);
  EXPECT_NE(error_of(with("measured_ns", -1.0)).find("'measured_ns' must be finite and not negative"),
            std::string::npos);
  EXPECT_NE(error_of(with("batch", 1.5)).find("'batch' must be a non-negative integer"), std::string::npos);
  EXPECT_NE(error_of(with("mode", "sideways")).find("'mode' is 'sideways'"), std::string::npos);
  // 1e400 is not a finite double.
  std::string huge = spool::test::sample_line();
  huge.replace(huge.find("\"measured_ns\":") + 14, 7, "1e400");
  EXPECT_FALSE(error_of(huge).empty());
  // Times out of order.
  json o = json::parse(spool::test::sample_line());
  o["start_ns"] = o["submit_ns"].get<std::uint64_t>() - 1;
  EXPECT_NE(error_of(o.dump()).find("start_ns is before submit_ns"), std::string::npos);
  o = json::parse(spool::test::sample_line());
  o["end_ns"] = o["start_ns"].get<std::uint64_t>() - 1;
  EXPECT_NE(error_of(o.dump()).find("end_ns is before start_ns"), std::string::npos);
}

TEST(TelemetryReader, SchemaVersionMustBePresentAndKnown) {
  EXPECT_NE(error_of(without("schema_version")).find("no 'schema_version'"), std::string::npos);
  EXPECT_NE(error_of(with("schema_version", 2)).find("schema_version 2 is not one this spool reads"),
            std::string::npos);
  EXPECT_NE(error_of(with("schema_version", "1")).find("'schema_version' must be an integer"), std::string::npos);
  // A pre-schema line (what Spool wrote before version 1).
  EXPECT_NE(error_of(R"({"batch":3,"time_us":1,"device":"d","kernel":"k","mode":"recorded"})").find("no 'schema_version'"),
            std::string::npos);
}

TEST(TelemetryReader, TextThatIsNotAnEventObjectIsRefused) {
  const std::string line = spool::test::sample_line();
  for (const std::string& bad : {std::string("hello"), std::string("{"), line.substr(0, line.size() / 2),
                                std::string("[1,2,3]"), std::string("null"), std::string("42"), std::string("{}"),
                                std::string("\"text\""), line + "x", std::string("{\"a\":1}{\"b\":2}")}) {
    EXPECT_FALSE(error_of(bad).empty()) << bad;
  }
  EXPECT_NE(error_of("{").find("not JSON"), std::string::npos);
  EXPECT_NE(error_of("[1]").find("must be a JSON object, found an array"), std::string::npos);
}

TEST(TelemetryReader, InvalidUtf8IsAnErrorNotACrash) {
  std::string bad = spool::test::sample_line();
  bad.replace(bad.find("test device"), 4, "\xff\xfe\xfd\xfc");
  EXPECT_NE(error_of(bad).find("not JSON"), std::string::npos);
}

TEST(TelemetryReader, DeepNestingAndHugeLinesAreRefusedCheaply) {
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  EXPECT_NE(error_of(deep).find("nested deeper than"), std::string::npos);
  const std::string deep_obj = "{\"a\":" + std::string(50'000, '[') + "1" + std::string(50'000, ']') + "}";
  EXPECT_NE(error_of(deep_obj).find("nested deeper than"), std::string::npos);
  // Brackets inside strings do not count.
  spool::Verdict v = spool::test::sample_verdict();
  v.failure = std::string(100, '[');
  EXPECT_NO_THROW(parse_event(spool::to_json(v)));
  const std::string huge = "{\"x\":\"" + std::string(spool::cli::kMaxLineBytes, 'a') + "\"}";
  EXPECT_NE(error_of(huge).find("line longer than"), std::string::npos);
}

TEST(TelemetryReader, RandomlyDamagedLinesGiveTelemetryErrorsOnly) {
  // Seeded: a failing case can be replayed. Every outcome is a parsed event
  // or a TelemetryError; error_of() would flag any other exception.
  std::mt19937 rng(20261129);
  const std::string line = spool::test::sample_line();
  int refused = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string s = line;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      const std::size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[at] = static_cast<char>(rng() % 256); break;
        case 1: s.erase(at, 1 + rng() % 8); break;
        default: s.insert(at, 1, "{}[]\",:0-e.\\\x80"[rng() % 13]); break;
      }
      if (s.empty()) s = "x";
    }
    try {
      parse_event(s, "fuzz", 1);
    } catch (const TelemetryError&) {
      ++refused;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "case " << i << ": " << e.what() << "\n" << s;
    }
  }
  EXPECT_GT(refused, 2000);  // most damage is detected
}

TEST(TelemetryReader, ReadStopsAtTheFirstBadLineNamingIt) {
  std::stringstream in;
  in << spool::test::sample_line(1) << "\n\n" << spool::test::sample_line(2) << "\n"
     << "{\"truncated\": \n" << spool::test::sample_line(4) << "\n";
  try {
    read_telemetry(in, "run.jsonl");
    FAIL();
  } catch (const TelemetryError& e) {
    EXPECT_EQ(e.line(), 4u);
    EXPECT_EQ(e.source(), "run.jsonl");
    EXPECT_EQ(std::string(e.what()).rfind("run.jsonl:4: not JSON", 0), 0u) << e.what();
  }
}

TEST(TelemetryReader, SkipInvalidKeepsGoodLinesAndListsTheBadOnes) {
  std::stringstream in;
  in << spool::test::sample_line(1) << "\r\n"  // CRLF line endings are fine
     << "garbage\n"
     << spool::test::sample_line(2) << "\n"
     << "   \n"
     << with("items", "many") << "\n"
     << spool::test::sample_line(3);  // no final newline
  const auto log = read_telemetry(in, "mixed.jsonl", true);
  EXPECT_EQ(log.lines, 6u);
  ASSERT_EQ(log.events.size(), 3u);
  EXPECT_EQ(log.events[0].line, 1u);
  EXPECT_EQ(log.events[1].line, 3u);
  EXPECT_EQ(log.events[2].line, 6u);
  ASSERT_EQ(log.skipped.size(), 2u);
  EXPECT_EQ(log.skipped[0].line(), 2u);
  EXPECT_EQ(log.skipped[1].line(), 5u);
  EXPECT_NE(log.skipped[1].reason().find("'items'"), std::string::npos);
}

TEST(TelemetryReader, AMissingFileIsNamed) {
  try {
    spool::cli::read_telemetry_file("/nonexistent-dir/t.jsonl");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/t.jsonl"), std::string::npos);
  }
  EXPECT_THROW(spool::cli::read_telemetry_file(testing::TempDir()), std::runtime_error);  // a directory
}

}  // namespace

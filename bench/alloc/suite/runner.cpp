#include "runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

extern char** environ;

namespace spool::bench {
namespace {

std::vector<std::string> child_env(const Allocator& a) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    if (kv.rfind("LD_PRELOAD=", 0) == 0 || kv.rfind("SPOOL_ALLOC_", 0) == 0) continue;
    env.push_back(kv);
  }
  if (!a.preload.empty()) env.push_back("LD_PRELOAD=" + a.preload);
  for (const auto& [k, v] : a.env) env.push_back(k + "=" + v);
  return env;
}

double now_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Reads both pipes until they close or the deadline passes.
bool drain(int out_fd, int err_fd, std::string& out, std::string& err, double deadline) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    const double left = deadline - now_s();
    if (left <= 0) return false;
    const int rc = poll(fds, 2, static_cast<int>(left * 1000) + 1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return false;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? out : err).append(buf, static_cast<std::size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  return true;
}

std::uint64_t to_u64(const std::map<std::string, std::string>& m, const char* k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : std::strtoull(it->second.c_str(), nullptr, 10);
}
double to_f(const std::map<std::string, std::string>& m, const char* k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : std::strtod(it->second.c_str(), nullptr);
}

// "learner: running, events pushed 12, dropped 0 (0.0000%), consumed 12,
//  decisions 3, cpu 1.234 ms over 0.500 s (0.2468% of a core)..."
void parse_learner(const std::string& err, RunResult& r) {
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("learner: ", 0) == 0) {
      unsigned long long pushed = 0;
      unsigned long long dropped = 0;
      double cpu_ms = 0;
      double wall = 0;
      const char* p = std::strstr(line.c_str(), "events pushed ");
      const char* c = std::strstr(line.c_str(), "cpu ");
      if (p != nullptr && std::sscanf(p, "events pushed %llu, dropped %llu", &pushed, &dropped) == 2 &&
          c != nullptr && std::sscanf(c, "cpu %lf ms over %lf s", &cpu_ms, &wall) == 2) {
        r.has_learner = true;
        r.events_pushed = pushed;
        r.events_dropped = dropped;
        r.learner_cpu_ms = cpu_ms;
        r.learner_wall_s = wall;
      }
    } else if (line.rfind("learner stood down: ", 0) == 0) {
      r.stand_down = line.substr(20);
    }
  }
}

}  // namespace

std::map<std::string, std::string> parse_pairs(const std::string& line) {
  std::map<std::string, std::string> m;
  std::istringstream in(line);
  for (std::string tok; in >> tok;) {
    const auto eq = tok.find('=');
    if (eq != std::string::npos) m[tok.substr(0, eq)] = tok.substr(eq + 1);
  }
  return m;
}

RunResult run_one(const RunSpec& spec, const Allocator& a) {
  RunResult r;
  std::vector<std::string> args = {spec.workload_bin, spec.workload, "--threads",
                                   std::to_string(spec.threads), "--scale",
                                   std::to_string(spec.scale), "--idle-ms",
                                   std::to_string(spec.idle_ms)};
  std::vector<std::string> env = child_env(a);
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);

  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    r.error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, spec.workload_bin.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    r.error = "cannot start " + spec.workload_bin + ": " + std::strerror(rc);
    return r;
  }
  std::string out;
  std::string err;
  const bool finished = drain(out_pipe[0], err_pipe[0], out, err, now_s() + spec.timeout_s);
  if (!finished) {
    kill(pid, SIGKILL);
    for (int fd : {out_pipe[0], err_pipe[0]}) close(fd);
  }
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  r.peak_rss_kib = static_cast<std::uint64_t>(ru.ru_maxrss);
  r.cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
            static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  if (!finished) {
    r.error = "timed out after " + std::to_string(spec.timeout_s) + " s";
    return r;
  }
  std::istringstream in(out);
  std::string result_line;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("result ", 0) == 0) result_line = line;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || result_line.empty()) {
    std::ostringstream why;
    if (WIFSIGNALED(status)) {
      why << "killed by signal " << WTERMSIG(status);
    } else {
      why << "exit status " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    const std::string tail = err.size() > 400 ? err.substr(err.size() - 400) : err;
    r.error = why.str() + (tail.empty() ? "" : ": " + tail);
    return r;
  }
  const auto kv = parse_pairs(result_line);
  r.rate = to_f(kv, "rate");
  r.ops = to_f(kv, "ops");
  r.cpu_rate = r.cpu_s > 0 ? r.ops / r.cpu_s : 0;
  r.seconds = to_f(kv, "seconds");
  r.check = to_u64(kv, "check");
  r.rss_idle_kib = to_u64(kv, "rss_idle_kib");
  // The program's own high-water mark: wait4's ru_maxrss can include the
  // spawning process's memory (posix_spawn shares it until exec).
  if (const std::uint64_t peak = to_u64(kv, "peak_kib"); peak != 0) r.peak_rss_kib = peak;
  if (a.is_spool) parse_learner(err, r);
  r.ok = true;
  return r;
}

}  // namespace spool::bench

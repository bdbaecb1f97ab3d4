// empty: does nothing; used to calibrate launch overheads.
struct SpoolArgs { uint unused; };
void spool_body(SpoolArgs args, uint i, uint item) {}

# Counts the machine instructions one SHA-256 takes, by single-stepping bench_sha256's
# hash_once() under gdb. Valgrind cannot execute the SHA instructions (callgrind takes the
# portable path: its emulated CPUID does not report SHA), and perf has no counters here.
#
#   gdb -q -batch -x bench/core/count_insns.py --args build/bench/core/bench_sha256 once 500
#   gdb -q -batch -x bench/core/count_insns.py --args build/bench/core/bench_sha256 once 500 portable
import gdb

gdb.execute("set pagination off")
gdb.execute("set environment LD_BIND_NOW=1")  # no lazy symbol binding inside the count
gdb.execute("break hash_once")
gdb.execute("run")
ret = int(gdb.parse_and_eval("*(unsigned long *)$sp"))  # hash_once's return address
count = 0
while int(gdb.parse_and_eval("$pc")) != ret:
    gdb.execute("stepi", to_string=True)
    count += 1
print("instructions:", count)
gdb.execute("continue")

#!/usr/bin/env python3
"""CPU per member request, as BENCHMARKS.md W and X measure it (not run by the tests).

    URL=postgres://… SEED=100000 DIR=/path/to/bench-dir SECS=20 ROUNDS=3 \
        python3 tests/support/cpu_per_request.py ./bisik-a ./bisik-b

For each build in turn (ROUNDS times), runs `BUILD bench load --members-only --clients 16
--seconds SECS --seed SEED --dir DIR [--database-url URL]` and samples, every 0.1 s, the
server's `utime + stime` (and, with URL, every `postgres` process's) and the host's steal time.
Each flow's window is its SECS less a second at each end (list first, then fetch, from the
moment the bench prints "16 clients"); CPU in the window divided by the flow's requests in it
(its req/s from the bench's table times the window). Prints one JSON line per run: per flow
`server_us`, `pg_us`, `steal` (%), `rps`, `p50`, `p99` (ms). Compare builds only within a round:
the host's speed moves between windows by more than most changes.
"""
import os, sys, subprocess, time, json, re, tempfile
TMP = tempfile.mkdtemp(prefix='cpu-per-request.')
OUT, ERR = os.path.join(TMP, 'out'), os.path.join(TMP, 'err')
HZ = os.sysconf('SC_CLK_TCK')
def stat(pid):
    try:
        s = open(f'/proc/{pid}/stat').read()
    except OSError:
        return None
    rp = s.rindex(')'); comm = s[s.index('(')+1:rp]; f = s[rp+2:].split()
    return comm, int(f[1]), int(f[11]) + int(f[12])
def steal():
    f = open('/proc/stat').readline().split()[1:]; v = list(map(int, f))
    return v[7], sum(v)
def run(bin_, seed, d, secs, url, pg):
    args = [bin_, 'bench', 'load', '--members-only', '--clients', '16', '--seconds', str(secs), '--seed', str(seed), '--dir', d]
    if url: args += ['--database-url', url]
    out = open(OUT, 'w'); err = open(ERR, 'w')
    p = subprocess.Popen(args, stdout=out, stderr=err)
    samples = []; t0 = None; server = None
    while p.poll() is None:
        time.sleep(0.1)
        now = time.monotonic()
        if server is None:
            for q in os.listdir('/proc'):
                if q.isdigit():
                    s = stat(q)
                    if s and s[1] == p.pid and s[0].startswith('bisik'):
                        server = q
        if t0 is None and '16 clients' in open(ERR).read():
            t0 = now
        if server is None: continue
        s = stat(server); sc = s[2] if s else 0
        pc = 0
        if pg:
            for q in os.listdir('/proc'):
                if q.isdigit():
                    x = stat(q)
                    if x and x[0].startswith('postgres'): pc += x[2]
        st, tot = steal()
        samples.append((now, sc, pc, st, tot))
    text = open(OUT).read()
    rows = {}
    for line in text.splitlines():
        m = re.match(r'\s*16\s+(member list|member fetch)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)', line)
        if m: rows[m.group(1)] = dict(rps=float(m.group(5)), p50=float(m.group(6)), p99=float(m.group(8)))
    if t0 is None:
        sys.exit(f'{bin_}: the bench never started its flows; its output:\n' + open(ERR).read())
    # the flows start about 0.5 s after "16 clients" (the members' logins and the first list)
    res = {}
    for i, flow in enumerate(['member list', 'member fetch']):
        a = t0 + 0.5 + i * secs + 1; b = t0 + 0.5 + (i + 1) * secs - 1
        w = [x for x in samples if a <= x[0] <= b]
        if len(w) < 2 or flow not in rows: continue
        dt = w[-1][0] - w[0][0]; reqs = rows[flow]['rps'] * dt
        sv = (w[-1][1] - w[0][1]) / HZ / reqs * 1e6
        pgc = (w[-1][2] - w[0][2]) / HZ / reqs * 1e6
        stl = (w[-1][3] - w[0][3]) / max(1, w[-1][4] - w[0][4]) * 100
        res[flow] = dict(server_us=round(sv), pg_us=round(pgc), steal=round(stl, 1), **rows[flow])
    return res
if __name__ == '__main__':
    seed = int(os.environ.get('SEED', '100000')); d = os.environ['DIR']
    secs = int(os.environ.get('SECS', '20')); rounds = int(os.environ.get('ROUNDS', '1'))
    url = os.environ.get('URL'); pg = bool(url)
    for r in range(rounds):
        for b in sys.argv[1:]:
            res = run(b, seed, d, secs, url, pg)
            print(time.strftime('%H:%M:%S'), os.path.basename(b), json.dumps(res), flush=True)

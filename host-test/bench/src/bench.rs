//! `totp-bench bench` and `totp-bench load`: the per-call cost of the tool in
//! each way a host can run it, measured in one process so that ratios
//! between them mean something on any machine, and a load run.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use totp_host::artifact::COMPONENT_BYTES;
use totp_host::{Audit, Call, Clock, NodeRef, SandboxConfig, Store, TotpTool};
use wasmtime::Result;

use totp_bench::counting::CountingDirectory;
use totp_bench::fixture::{
    BENCH_SECRET, BENCH_TIME, BENCH_USER, auto_resolve_call, bench_call, native_call,
};
use totp_bench::floor::Floor;

/// Rounds in which every mode, and pyotp, time one batch each.
const ROUNDS: u64 = 20;

/// One way of making the call, timed in batches of `batch` calls.
struct Mode<'a> {
    name: &'static str,
    batch: u64,
    call: Box<dyn FnMut() + 'a>,
}

impl<'a> Mode<'a> {
    /// `calls` calls in all, over [`ROUNDS`] batches.
    fn new(name: &'static str, calls: u64, call: impl FnMut() + 'a) -> Self {
        Mode {
            name,
            batch: (calls / ROUNDS).max(1),
            call: Box::new(call),
        }
    }

    /// Nanoseconds per call over one batch.
    fn time_batch(&mut self) -> f64 {
        let started = Instant::now();
        for _ in 0..self.batch {
            (self.call)();
        }
        started.elapsed().as_nanos() as f64 / self.batch as f64
    }
}

/// Median nanoseconds per call of `f` alone, over [`ROUNDS`] batches (for
/// figures that are not compared with another mode's).
fn ns_per_call(calls: u64, f: impl FnMut()) -> f64 {
    let mut modes = [Mode::new("", calls, f)];
    // No baseline: an `Err` worker is never asked.
    let (samples, _) = interleaved(&mut modes, &mut Err(String::new()), 0);
    samples[0].median()
}

/// Per-call times of one mode, one per round.
#[derive(Debug, Default, Clone)]
struct Samples(Vec<f64>);

impl Samples {
    fn sorted(&self) -> Vec<f64> {
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        sorted
    }

    fn median(&self) -> f64 {
        let sorted = self.sorted();
        match sorted.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => sorted[n / 2],
            n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        }
    }

    fn best(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(f64::NAN)
    }
}

/// Times every mode and pyotp in interleaved rounds: each round times one
/// batch of each in turn, so that a burst of load on a shared machine (a
/// neighbour's, the hypervisor's) lands on all of them alike rather than on
/// whichever mode happened to run then. Each round starts one further along
/// the list, so no mode always follows the same one (the FULL-sync mode's
/// fsyncs, say). Every mode, and pyotp, is warmed up first.
fn interleaved(
    modes: &mut [Mode],
    pyotp: &mut Result<Pyotp, String>,
    pyotp_batch: u64,
) -> (Vec<Samples>, Result<Samples, String>) {
    for mode in modes.iter_mut() {
        for _ in 0..mode.batch.min(1000) {
            (mode.call)();
        }
    }
    let mut baseline_error = match pyotp {
        Err(why) => Some(why.clone()),
        Ok(worker) => worker.time(pyotp_batch).err(),
    };
    let mut samples: Vec<Samples> = modes.iter().map(|_| Samples::default()).collect();
    let mut baseline = Samples::default();
    // The slot after the last mode is pyotp's.
    let slots = modes.len() + 1;
    for round in 0..ROUNDS as usize {
        for slot in (0..slots).map(|k| (round + k) % slots) {
            if let Some(mode) = modes.get_mut(slot) {
                samples[slot].0.push(mode.time_batch());
            } else if let (Ok(worker), None) = (pyotp.as_mut(), &baseline_error) {
                match worker.time(pyotp_batch) {
                    Ok(ns) => baseline.0.push(ns),
                    Err(why) => baseline_error = Some(why),
                }
            }
        }
    }
    let baseline = match baseline_error {
        Some(why) => Err(why),
        None => Ok(baseline),
    };
    (samples, baseline)
}

/// pyotp's `TOTP(secret).at(t)` in a Python child process that times a
/// batch (with `timeit`, garbage collection off) each time it is asked, so
/// that its batches interleave with the tool's.
struct Pyotp {
    python: String,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// Drains the worker's stderr as it comes (so that a chatty Python
    /// cannot fill the pipe and stall), for the reason it stopped.
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl Pyotp {
    /// Arguments: the base32 secret and the Unix time.
    const SCRIPT: &str = "import sys, timeit, pyotp\n\
         secret, at = sys.argv[1], int(sys.argv[2])\n\
         t = timeit.Timer(lambda: pyotp.TOTP(secret).at(at))\n\
         print('ready', flush=True)\n\
         for line in sys.stdin:\n    \
             n = int(line)\n    \
             print(t.timeit(n) / n * 1e9, flush=True)\n";

    /// Starts the worker; `Err` says why where Python or pyotp is missing.
    fn start(python: &str) -> Result<Self, String> {
        let mut child = Command::new(python)
            .args(["-c", Self::SCRIPT, BENCH_SECRET, &BENCH_TIME.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {python}: {e}"))?;
        let (Some(stdin), Some(stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            return Err(format!("{python}: no pipes"));
        };
        let drain = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = stderr.read_to_end(&mut text);
            text
        });
        let mut worker = Pyotp {
            python: python.to_owned(),
            child,
            stdin,
            stdout: BufReader::new(stdout),
            stderr: Some(drain),
        };
        match worker.read_line() {
            Some(line) if line == "ready" => Ok(worker),
            _ => Err(worker.failure()),
        }
    }

    fn read_line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(n) if n > 0 => Some(line.trim().to_owned()),
            _ => None,
        }
    }

    /// Why the worker stopped: the last line of its stderr, else its exit
    /// status.
    fn failure(&mut self) -> String {
        let _ = self.child.kill();
        let status = self.child.wait();
        let stderr = self
            .stderr
            .take()
            .and_then(|drain| drain.join().ok())
            .unwrap_or_default();
        let stderr = String::from_utf8_lossy(&stderr);
        let python = &self.python;
        match stderr.lines().rev().find(|line| !line.trim().is_empty()) {
            Some(why) => format!("pyotp not available to {python}: {}", why.trim()),
            None => match status {
                Ok(status) => format!("{python} could not run pyotp ({status})"),
                Err(e) => format!("{python} could not run pyotp: {e}"),
            },
        }
    }

    /// Nanoseconds per call over a batch of `calls`.
    fn time(&mut self, calls: u64) -> Result<f64, String> {
        if writeln!(self.stdin, "{calls}").is_err() {
            return Err(self.failure());
        }
        let Some(line) = self.read_line() else {
            return Err(self.failure());
        };
        line.parse()
            .map_err(|e| format!("unexpected timeit output {line:?}: {e}"))
    }
}

impl Drop for Pyotp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One row of a report.
#[derive(Debug, Serialize)]
struct Figure {
    mode: &'static str,
    /// The median over the rounds: what the ratios use.
    ns_per_call: f64,
    calls_per_second: f64,
    /// The fastest round.
    ns_best: f64,
}

impl Figure {
    fn new(mode: &'static str, samples: &Samples) -> Self {
        let ns = samples.median();
        Figure {
            mode,
            ns_per_call: ns,
            calls_per_second: 1e9 / ns,
            ns_best: samples.best(),
        }
    }
}

/// Calls per second with this many threads.
#[derive(Debug, Serialize)]
struct Throughput {
    threads: usize,
    calls_per_second: f64,
}

/// pyotp's figure, timed in the same rounds as the modes.
#[derive(Debug, Serialize)]
struct Baseline {
    ns_per_call: f64,
    ns_best: f64,
}

/// Every mode, measured now.
#[derive(Debug, Serialize)]
struct Report {
    component_bytes: usize,
    calls: u64,
    /// Rounds each mode was timed in, interleaved with the others.
    rounds: u64,
    figures: Vec<Figure>,
    /// Fresh-instance throughput with 1..=N threads on one engine (the
    /// median of interleaved rounds).
    threads: Vec<Throughput>,
    /// The same for the native call, in the same rounds: what this
    /// machine's threads scale to with no wasmtime at all, the baseline for
    /// `threads`.
    native_threads: Vec<Throughput>,
    /// Per-call cost of auditing to the SQLite store, as a ratio: the
    /// audited fresh-instance call over the same call without audit.
    audit_ratio: f64,
    /// The same with synchronous=FULL (a sync per event).
    audit_ratio_full_sync: f64,
    /// `{"ns_per_call": ..., "ns_best": ...}`, or `{"skipped": "why"}`.
    #[serde(serialize_with = "pyotp_json")]
    pyotp: Result<Baseline, String>,
}

fn pyotp_json<S: serde::Serializer>(
    pyotp: &Result<Baseline, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    match pyotp {
        Ok(baseline) => baseline.serialize(serializer),
        Err(why) => {
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry("skipped", why)?;
            map.end()
        }
    }
}

/// `totp-bench bench`: prints the report as a table or as JSON.
pub fn bench(calls: u64, json: bool, python: &str) -> Result<ExitCode> {
    let report = run(calls, python)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(ExitCode::SUCCESS)
}

/// A SQLite store file of the bench's own (WAL, as the CLI opens it),
/// deleted with its WAL files when dropped.
struct TempStore {
    path: PathBuf,
}

impl TempStore {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "totp-host-bench-{}-{name}.sqlite3",
            std::process::id()
        ));
        let store = TempStore { path };
        store.remove();
        store
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.path.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        self.remove();
    }
}

/// Measures native, warm, fresh-instance (pooling and on-demand) calls,
/// fresh-instance calls over a SQLite file with and without the audit
/// trail, thread scaling, and pyotp through `python`.
fn run(calls: u64, python: &str) -> Result<Report> {
    let call = bench_call();
    let resolving = auto_resolve_call();
    let pooled = TotpTool::new(Audit::Off)?;
    let on_demand = TotpTool::with_config(
        SandboxConfig {
            pooling: false,
            ..SandboxConfig::default()
        },
        Audit::Off,
    )?;
    let temp_store = TempStore::new("normal");
    let store = Arc::new(Store::sqlite(&temp_store.path)?);
    store.put_user(BENCH_USER, true, Some(BENCH_SECRET))?;
    let store_call = Call::new(store.clone()).with_clock(Clock::Fixed(BENCH_TIME));
    let audited = TotpTool::new(Audit::To(store))?;
    // The same, on a second file synced at every commit.
    let full_sync_store = TempStore::new("full-sync");
    let synced = Arc::new(Store::sqlite(&full_sync_store.path)?);
    synced.put_user(BENCH_USER, true, Some(BENCH_SECRET))?;
    synced.sync_every_commit()?;
    let synced_call = Call::new(synced.clone()).with_clock(Clock::Fixed(BENCH_TIME));
    let audited_synced = TotpTool::new(Audit::To(synced))?;
    let mut warm = pooled.warm_instance(&call)?;
    let floor = Floor::new(pooled.wasmtime_engine(), pooled.config())?;
    let mut warm_floor = floor.warm()?;
    for answer in [floor.fresh_call(BENCH_USER)?, warm_floor.call(BENCH_USER)?] {
        if answer != totp_bench::floor::ANSWER {
            wasmtime::bail!("the floor component answered {answer}");
        }
    }
    // Every mode must give the same answer before it is timed.
    let expected = native_call(&call);
    for (mode, got) in [
        ("warm", warm.try_get_totp_code(BENCH_USER)?),
        ("fresh", pooled.try_get_totp_code(&call, BENCH_USER)?),
        ("auto-resolve", pooled.try_get_totp_code(&resolving, "")?),
        ("store", pooled.try_get_totp_code(&store_call, BENCH_USER)?),
        (
            "audited",
            audited.try_get_totp_code(&store_call, BENCH_USER)?,
        ),
        (
            "audited, synced",
            audited_synced.try_get_totp_code(&synced_call, BENCH_USER)?,
        ),
    ] {
        if got != expected {
            wasmtime::bail!("{mode} call answered {got}, native {expected}");
        }
    }

    let mut modes = vec![
        Mode::new("native", calls.saturating_mul(10), || {
            black_box(native_call(&call));
        }),
        Mode::new("warm instance", calls, || {
            black_box(warm.try_get_totp_code(BENCH_USER).ok());
        }),
        Mode::new("fresh instance (pooling)", calls, || {
            black_box(pooled.get_totp_code(&call, BENCH_USER));
        }),
        // wasmtime's own share: the same sandbox around a component that
        // does nothing (see floor.rs).
        Mode::new("floor: warm instance, empty component", calls, || {
            black_box(warm_floor.call(BENCH_USER).ok());
        }),
        Mode::new("floor: fresh instance, empty component", calls, || {
            black_box(floor.fresh_call(BENCH_USER).ok());
        }),
        // The tool's instance life cycle alone: a fresh instance made and
        // dropped, no call. With the floor's, it says what the component's
        // shape (two core instances, five lowered imports) costs.
        Mode::new("instantiate and drop, no call", calls, || {
            black_box(pooled.warm_instance(&call).is_ok());
        }),
        Mode::new("fresh instance (pooling), auto-resolve", calls, || {
            black_box(pooled.get_totp_code(&resolving, ""));
        }),
        Mode::new("fresh instance (on demand)", calls, || {
            black_box(on_demand.get_totp_code(&call, BENCH_USER));
        }),
        Mode::new("fresh instance + SQLite store", calls, || {
            black_box(pooled.get_totp_code(&store_call, BENCH_USER));
        }),
        Mode::new("fresh instance + SQLite store + audit", calls, || {
            black_box(audited.get_totp_code(&store_call, BENCH_USER));
        }),
        // A sync per call takes milliseconds on many disks: fewer calls.
        Mode::new(
            "fresh instance + SQLite + audit, FULL",
            (calls / 20).max(20),
            || {
                black_box(audited_synced.get_totp_code(&synced_call, BENCH_USER));
            },
        ),
    ];
    let mut pyotp = Pyotp::start(python);
    let (samples, baseline) = interleaved(&mut modes, &mut pyotp, (calls / ROUNDS).max(1));
    drop(pyotp);
    let figures: Vec<Figure> = modes
        .iter()
        .zip(&samples)
        .map(|(mode, samples)| Figure::new(mode.name, samples))
        .collect();
    drop(modes);
    let ns = |mode: &str| {
        figures
            .iter()
            .find(|f| f.mode == mode)
            .map_or(f64::NAN, |f| f.ns_per_call)
    };
    let over_store = ns("fresh instance + SQLite store");
    let audit_ratio = ns("fresh instance + SQLite store + audit") / over_store;
    let audit_ratio_full_sync = ns("fresh instance + SQLite + audit, FULL") / over_store;
    let (threads, native_threads) = thread_scaling(&pooled, calls);
    Ok(Report {
        component_bytes: COMPONENT_BYTES.len(),
        calls,
        rounds: ROUNDS,
        figures,
        threads,
        native_threads,
        audit_ratio,
        audit_ratio_full_sync,
        pyotp: baseline.map(|samples| Baseline {
            ns_per_call: samples.median(),
            ns_best: samples.best(),
        }),
    })
}

/// Rounds of the thread-scaling measurement.
const THREAD_ROUNDS: u64 = 5;

/// Fresh-instance and native throughput with 1..=cores threads (at least
/// two), each the median of [`THREAD_ROUNDS`] rounds in which every thread
/// count of both is measured in turn: the native call, with no wasmtime,
/// says what this machine's threads scale to in the same minutes.
fn thread_scaling(tool: &TotpTool, calls: u64) -> (Vec<Throughput>, Vec<Throughput>) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let counts: Vec<usize> = (1..=cores.max(2)).collect();
    let call = bench_call();
    let mut fresh = vec![Samples::default(); counts.len()];
    let mut native = vec![Samples::default(); counts.len()];
    let per_round = (calls / THREAD_ROUNDS).max(1);
    for _ in 0..THREAD_ROUNDS {
        for (i, &threads) in counts.iter().enumerate() {
            fresh[i]
                .0
                .push(throughput_of(tool, &call, BENCH_USER, threads, per_round));
            native[i].0.push(calls_per_second(
                threads,
                per_round.saturating_mul(10),
                || {
                    black_box(native_call(&call));
                },
            ));
        }
    }
    let rows = |samples: Vec<Samples>| {
        counts
            .iter()
            .zip(samples)
            .map(|(&threads, samples)| Throughput {
                threads,
                calls_per_second: samples.median(),
            })
            .collect()
    };
    (rows(fresh), rows(native))
}

/// Fresh-instance calls per second of `call` with `threads` threads.
fn throughput_of(tool: &TotpTool, call: &Call, username: &str, threads: usize, calls: u64) -> f64 {
    calls_per_second(threads, calls, || {
        black_box(tool.get_totp_code(call, username));
    })
}

/// Calls per second of `one_call` on `threads` threads, about `calls` in all.
fn calls_per_second(threads: usize, calls: u64, one_call: impl Fn() + Sync) -> f64 {
    let per_thread = calls.max(threads as u64) / threads as u64;
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                for _ in 0..per_thread {
                    one_call();
                }
            });
        }
    });
    (per_thread * threads as u64) as f64 / started.elapsed().as_secs_f64()
}

impl Report {
    /// The report as a table, with ratios against native and pyotp.
    fn table(&self) -> String {
        let native = self.figures[0].ns_per_call;
        let mut out = format!(
            "component: {} bytes; {} calls per mode in {} interleaved rounds; \
             ns/call is the median round, best the fastest\n\
             {:<38} {:>10} {:>10} {:>12} {:>9} {:>8}\n",
            self.component_bytes,
            self.calls,
            self.rounds,
            "mode",
            "ns/call",
            "best",
            "calls/s",
            "x native",
            "x pyotp"
        );
        for f in &self.figures {
            let vs_pyotp = match &self.pyotp {
                Ok(py) => format!("{:.2}", f.ns_per_call / py.ns_per_call),
                Err(_) => "-".into(),
            };
            out += &format!(
                "{:<38} {:>10.0} {:>10.0} {:>12.0} {:>9.2} {:>8}\n",
                f.mode,
                f.ns_per_call,
                f.ns_best,
                f.calls_per_second,
                f.ns_per_call / native,
                vs_pyotp
            );
        }
        match &self.pyotp {
            Ok(py) => {
                out += &format!(
                    "{:<38} {:>10.0} {:>10.0} {:>12.0}\n",
                    "pyotp TOTP(s).at(t)",
                    py.ns_per_call,
                    py.ns_best,
                    1e9 / py.ns_per_call
                )
            }
            Err(why) => out += &format!("pyotp: skipped ({why})\n"),
        }
        out += &format!(
            "audit trail (SQLite, WAL): x{:.2} the same call without it \
             (synchronous=NORMAL, the default); x{:.2} with FULL\n",
            self.audit_ratio, self.audit_ratio_full_sync
        );
        for (what, rows) in [
            ("fresh-instance", &self.threads),
            ("native", &self.native_threads),
        ] {
            out += &format!("{what} throughput by threads:");
            for t in rows.iter() {
                let scaling = t.calls_per_second / rows[0].calls_per_second;
                out += &format!(
                    " {}: {:.0}/s ({scaling:.2}x)",
                    t.threads, t.calls_per_second
                );
            }
            out.push('\n');
        }
        out
    }
}

/// What a load run saw.
#[derive(Debug, Serialize)]
struct LoadReport {
    calls: u64,
    threads: u64,
    failures: u64,
    seconds: f64,
    calls_per_second: f64,
    /// Resident set size after warm-up and at the end, in KiB.
    rss_after_warm_up_kib: u64,
    rss_at_end_kib: u64,
}

/// `totp-bench load`: prints the report; exit status 1 when a call failed.
/// With a store, every call asks it for `username` (the store must hold
/// that agent); otherwise the calls go to an in-memory agent.
pub fn load(
    calls: u64,
    threads: u64,
    store: Option<(Store, String)>,
    perf_map: bool,
) -> Result<ExitCode> {
    let (call, username) = match store {
        Some((store, username)) => (
            Call::new(Arc::new(store)).with_clock(Clock::Fixed(BENCH_TIME)),
            username,
        ),
        None => (bench_call(), BENCH_USER.to_owned()),
    };
    let report = run_load(calls, threads, &call, &username, perf_map)?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(if report.failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The tool with default limits; with `perf_map`, its engine writes
/// `/tmp/perf-<pid>.map` naming the compiled guest functions, so that
/// `perf report` can attribute samples to them.
fn load_tool(perf_map: bool) -> Result<TotpTool> {
    let config = SandboxConfig::default();
    let mut wasmtime_config = config.engine_config();
    if perf_map {
        wasmtime_config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    let engine = TotpTool::engine_from(&wasmtime_config)?;
    let component = wasmtime::component::Component::new(&engine, COMPONENT_BYTES)?;
    TotpTool::from_component(engine, &component, config, Audit::Off)
}

/// `calls` fresh-instance calls on `threads` threads sharing one engine,
/// after a warm-up that lets every pool slot be used once; a call fails
/// when its answer differs from the native computation.
fn run_load(
    calls: u64,
    threads: u64,
    call: &Call,
    username: &str,
    perf_map: bool,
) -> Result<LoadReport> {
    use std::sync::atomic::{AtomicU64, Ordering};

    let tool = load_tool(perf_map)?;
    let expected = get_totp_code::get_totp_code_json(call, username);
    if !expected.contains("\"success\":true") {
        wasmtime::bail!("the store does not answer {username} with a code: {expected}");
    }
    let failures = AtomicU64::new(0);
    let threads = threads.max(1);
    let run = |count: u64| {
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    for _ in 0..count / threads {
                        if tool.get_totp_code(call, username) != expected {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
    };
    let slots = u64::from(tool.config().max_concurrent_calls);
    run((calls / 10).max(slots * 4));
    let rss_after_warm_up_kib = resident_kib();
    let started = Instant::now();
    run(calls);
    let seconds = started.elapsed().as_secs_f64();
    Ok(LoadReport {
        calls: calls / threads * threads,
        threads,
        failures: failures.load(Ordering::Relaxed),
        seconds,
        calls_per_second: calls as f64 / seconds,
        rss_after_warm_up_kib,
        rss_at_end_kib: resident_kib(),
    })
}

/// This process's resident set size (Linux; 0 elsewhere).
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

/// One store's figures in `totp-bench bench-stores`.
#[derive(Debug, Serialize)]
struct StoreFigures {
    store: String,
    by_username_ns: f64,
    auto_resolve_ns: f64,
    /// Store queries per call, under the default access policy.
    queries_by_username: f64,
    queries_auto_resolve: f64,
    /// Fresh-instance calls per second by username, with 1, 2 and 4 threads.
    threads: Vec<Throughput>,
}

const STORE_WORKFLOW: &str = "wf-bench";
const STORE_TOOL_NODE: &str = "tool_bench";

/// `totp-bench bench-stores STORE...`: the same calls against each store,
/// in one run: by username and auto-resolved through the tool edge (five
/// imports), queries per call, and throughput by threads.
pub fn bench_stores(calls: u64, stores: &[String], json: bool) -> Result<ExitCode> {
    let tool = TotpTool::new(Audit::Off)?;
    let mut figures = Vec::new();
    for name in stores {
        let store = Arc::new(Store::open(name)?);
        // The tool node resolves to the bench agent: agent_{slug}_{node}.
        store.link_tool(STORE_WORKFLOW, "bench", STORE_TOOL_NODE, "agent")?;
        store.put_user(BENCH_USER, true, Some(BENCH_SECRET))?;
        let by_username = Call::new(store.clone()).with_clock(Clock::Fixed(BENCH_TIME));
        let resolving = by_username
            .clone()
            .at_node(NodeRef::new(STORE_WORKFLOW, STORE_TOOL_NODE));
        for (call, username) in [(&by_username, BENCH_USER), (&resolving, "")] {
            let answer = tool.get_totp_code(call, username);
            if !answer.contains(BENCH_USER) {
                wasmtime::bail!("{name}: unexpected answer {answer}");
            }
        }
        let queries = |username: &str, node: Option<NodeRef>| {
            let counting = Arc::new(CountingDirectory::new(store.clone()));
            let mut call = Call::new(counting.clone()).with_clock(Clock::Fixed(BENCH_TIME));
            if let Some(node) = node {
                call = call.at_node(node);
            }
            for _ in 0..100 {
                black_box(tool.get_totp_code(&call, username));
            }
            counting.lookups() as f64 / 100.0
        };
        figures.push(StoreFigures {
            store: name.clone(),
            by_username_ns: ns_per_call(calls, || {
                black_box(tool.get_totp_code(&by_username, BENCH_USER));
            }),
            auto_resolve_ns: ns_per_call(calls, || {
                black_box(tool.get_totp_code(&resolving, ""));
            }),
            queries_by_username: queries(BENCH_USER, None),
            queries_auto_resolve: queries("", Some(NodeRef::new(STORE_WORKFLOW, STORE_TOOL_NODE))),
            threads: [1, 2, 4]
                .into_iter()
                .map(|threads| Throughput {
                    threads,
                    calls_per_second: throughput_of(
                        &tool,
                        &by_username,
                        BENCH_USER,
                        threads,
                        calls,
                    ),
                })
                .collect(),
        });
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<44} {:>12} {:>12} {:>9} {:>9}  calls/s by threads (1, 2, 4)",
        "store", "by name ns", "resolve ns", "q/name", "q/resolve"
    );
    for f in &figures {
        let rates: Vec<String> = f
            .threads
            .iter()
            .map(|t| format!("{:.0}", t.calls_per_second))
            .collect();
        println!(
            "{:<44} {:>12.0} {:>12.0} {:>9.1} {:>9.1}  {}",
            f.store,
            f.by_username_ns,
            f.auto_resolve_ns,
            f.queries_by_username,
            f.queries_auto_resolve,
            rates.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::Samples;

    #[test]
    fn median_and_best_of_rounds() {
        let odd = Samples(vec![30.0, 10.0, 20.0]);
        assert_eq!((odd.median(), odd.best()), (20.0, 10.0));
        let even = Samples(vec![40.0, 10.0, 30.0, 20.0]);
        assert_eq!((even.median(), even.best()), (25.0, 10.0));
        assert!(Samples::default().median().is_nan());
        assert!(Samples::default().best().is_nan());
    }
}

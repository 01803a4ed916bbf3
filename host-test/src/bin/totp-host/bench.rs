//! `totp-host bench` and `totp-host load`: the per-call cost of the tool in
//! each way a host can run it, measured in one process so that ratios
//! between them mean something on any machine, and a load run.

use std::hint::black_box;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use totp_host::{Audit, Call, Clock, NodeRef, SandboxConfig, Store, TotpTool};
use wasmtime::Result;

use crate::fixture::{
    BENCH_SECRET, BENCH_TIME, BENCH_USER, auto_resolve_call, bench_call, native_call,
};
use crate::floor::Floor;

/// Median nanoseconds per call of `f`, over batches of `calls / 20`.
fn ns_per_call(calls: u64, mut f: impl FnMut()) -> f64 {
    let batch = (calls / 20).max(1);
    for _ in 0..batch.min(1000) {
        f();
    }
    let mut samples: Vec<f64> = (0..20)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..batch {
                f();
            }
            started.elapsed().as_nanos() as f64 / batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// pyotp's `TOTP(secret).at(t)`, timed by Python's `timeit` in a child
/// process; `Err` says why where Python or pyotp is missing.
fn pyotp_ns_per_call(python: &str) -> Result<f64, String> {
    let script = format!(
        "import timeit, pyotp\n\
         t = timeit.Timer(lambda: pyotp.TOTP({BENCH_SECRET:?}).at({BENCH_TIME}))\n\
         n, _ = t.autorange()\n\
         print(min(t.repeat(7, n)) / n * 1e9)"
    );
    let output = Command::new(python)
        .args(["-c", &script])
        .output()
        .map_err(|e| format!("cannot run {python}: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let why = stderr.lines().last().unwrap_or_default();
        return Err(if why.is_empty() {
            format!("{python} could not run pyotp ({})", output.status)
        } else {
            format!("pyotp not available to {python}: {why}")
        });
    }
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("unexpected timeit output: {e}"))
}

/// One row of a report.
#[derive(Debug, Serialize)]
struct Figure {
    mode: &'static str,
    ns_per_call: f64,
    calls_per_second: f64,
}

/// Calls per second with this many threads.
#[derive(Debug, Serialize)]
struct Throughput {
    threads: usize,
    calls_per_second: f64,
}

/// Every mode, measured now.
#[derive(Debug, Serialize)]
struct Report {
    component_bytes: usize,
    calls: u64,
    figures: Vec<Figure>,
    /// Fresh-instance throughput with 1..=N threads on one engine.
    threads: Vec<Throughput>,
    /// The same for the native call: what this machine's threads scale to
    /// with no wasmtime at all, the baseline for `threads`.
    native_threads: Vec<Throughput>,
    /// Per-call cost of auditing to the SQLite store, as a ratio: the
    /// audited fresh-instance call over the same call without audit.
    audit_ratio: f64,
    /// The same with synchronous=FULL (a sync per event).
    audit_ratio_full_sync: f64,
    /// `{"ns_per_call": ...}`, or `{"skipped": "why"}`.
    #[serde(serialize_with = "pyotp_json")]
    pyotp: Result<f64, String>,
}

fn pyotp_json<S: serde::Serializer>(
    pyotp: &Result<f64, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(1))?;
    match pyotp {
        Ok(ns) => map.serialize_entry("ns_per_call", ns)?,
        Err(why) => map.serialize_entry("skipped", why)?,
    }
    map.end()
}

fn figure(mode: &'static str, ns: f64) -> Figure {
    Figure {
        mode,
        ns_per_call: ns,
        calls_per_second: 1e9 / ns,
    }
}

/// `totp-host bench`: prints the report as a table or as JSON.
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
        if answer != crate::floor::ANSWER {
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

    let figures = vec![
        figure(
            "native",
            ns_per_call(calls * 10, || {
                black_box(native_call(&call));
            }),
        ),
        figure(
            "warm instance",
            ns_per_call(calls, || {
                black_box(warm.try_get_totp_code(BENCH_USER).ok());
            }),
        ),
        figure(
            "fresh instance (pooling)",
            ns_per_call(calls, || {
                black_box(pooled.get_totp_code(&call, BENCH_USER));
            }),
        ),
        // wasmtime's own share: the same sandbox around a component that
        // does nothing (see floor.rs).
        figure(
            "floor: warm instance, empty component",
            ns_per_call(calls, || {
                black_box(warm_floor.call(BENCH_USER).ok());
            }),
        ),
        figure(
            "floor: fresh instance, empty component",
            ns_per_call(calls, || {
                black_box(floor.fresh_call(BENCH_USER).ok());
            }),
        ),
        // The tool's instance life cycle alone: a fresh instance made and
        // dropped, no call. With the floor's, it says what the component's
        // shape (three core instances, five lowered imports) costs.
        figure(
            "instantiate and drop, no call",
            ns_per_call(calls, || {
                black_box(pooled.warm_instance(&call).is_ok());
            }),
        ),
        figure(
            "fresh instance (pooling), auto-resolve",
            ns_per_call(calls, || {
                black_box(pooled.get_totp_code(&resolving, ""));
            }),
        ),
        figure(
            "fresh instance (on demand)",
            ns_per_call(calls, || {
                black_box(on_demand.get_totp_code(&call, BENCH_USER));
            }),
        ),
        figure(
            "fresh instance + SQLite store",
            ns_per_call(calls, || {
                black_box(pooled.get_totp_code(&store_call, BENCH_USER));
            }),
        ),
        figure(
            "fresh instance + SQLite store + audit",
            ns_per_call(calls, || {
                black_box(audited.get_totp_code(&store_call, BENCH_USER));
            }),
        ),
        // A sync per call takes milliseconds on many disks: fewer calls.
        figure(
            "fresh instance + SQLite + audit, FULL",
            ns_per_call((calls / 20).max(20), || {
                black_box(audited_synced.get_totp_code(&synced_call, BENCH_USER));
            }),
        ),
    ];
    let ns = |mode: &str| {
        figures
            .iter()
            .find(|f| f.mode == mode)
            .map_or(f64::NAN, |f| f.ns_per_call)
    };
    let over_store = ns("fresh instance + SQLite store");
    let audit_ratio = ns("fresh instance + SQLite store + audit") / over_store;
    let audit_ratio_full_sync = ns("fresh instance + SQLite + audit, FULL") / over_store;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = (1..=cores.max(2))
        .map(|threads| Throughput {
            threads,
            calls_per_second: throughput(&pooled, threads, calls),
        })
        .collect();
    let native_threads = (1..=cores.max(2))
        .map(|threads| Throughput {
            threads,
            calls_per_second: native_throughput(threads, calls * 10),
        })
        .collect();
    Ok(Report {
        component_bytes: totp_host::artifact::COMPONENT_BYTES.len(),
        calls,
        figures,
        threads,
        native_threads,
        audit_ratio,
        audit_ratio_full_sync,
        pyotp: pyotp_ns_per_call(python),
    })
}

/// Fresh-instance calls per second with `threads` threads sharing `tool`.
fn throughput(tool: &TotpTool, threads: usize, calls: u64) -> f64 {
    throughput_of(tool, &bench_call(), BENCH_USER, threads, calls)
}

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

/// Native calls per second with `threads` threads.
fn native_throughput(threads: usize, calls: u64) -> f64 {
    let call = bench_call();
    calls_per_second(threads, calls, || {
        black_box(native_call(&call));
    })
}

impl Report {
    /// The report as a table, with ratios against native and pyotp.
    fn table(&self) -> String {
        let native = self.figures[0].ns_per_call;
        let mut out = format!(
            "component: {} bytes; {} calls per mode\n{:<38} {:>12} {:>12} {:>10} {:>10}\n",
            self.component_bytes, self.calls, "mode", "ns/call", "calls/s", "x native", "x pyotp"
        );
        for f in &self.figures {
            let vs_pyotp = match &self.pyotp {
                Ok(py) => format!("{:.2}", f.ns_per_call / py),
                Err(_) => "-".into(),
            };
            out += &format!(
                "{:<38} {:>12.0} {:>12.0} {:>10.2} {:>10}\n",
                f.mode,
                f.ns_per_call,
                f.calls_per_second,
                f.ns_per_call / native,
                vs_pyotp
            );
        }
        match &self.pyotp {
            Ok(py) => {
                out += &format!(
                    "{:<38} {:>12.0} {:>12.0}\n",
                    "pyotp TOTP(s).at(t)",
                    py,
                    1e9 / py
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

/// `totp-host load`: prints the report; exit status 1 when a call failed.
/// With a store, every call asks it for `username` (the store must hold
/// that agent); otherwise the calls go to an in-memory agent.
pub fn load(
    calls: u64,
    threads: u64,
    store: Option<(Store, String)>,
    config: SandboxConfig,
) -> Result<ExitCode> {
    let (call, username) = match store {
        Some((store, username)) => (
            Call::new(Arc::new(store)).with_clock(Clock::Fixed(BENCH_TIME)),
            username,
        ),
        None => (bench_call(), BENCH_USER.to_owned()),
    };
    let report = run_load(calls, threads, &call, &username, config)?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(if report.failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `calls` fresh-instance calls on `threads` threads sharing one engine,
/// after a warm-up that lets every pool slot be used once; a call fails
/// when its answer differs from the native computation.
fn run_load(
    calls: u64,
    threads: u64,
    call: &Call,
    username: &str,
    config: SandboxConfig,
) -> Result<LoadReport> {
    use std::sync::atomic::{AtomicU64, Ordering};

    let tool = TotpTool::with_config(config, Audit::Off)?;
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

/// One store's figures in `totp-host bench-stores`.
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

/// `totp-host bench-stores STORE...`: the same calls against each store,
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
        let queries = |call: &Call, username: &str| {
            let before = store.queries();
            for _ in 0..100 {
                black_box(tool.get_totp_code(call, username));
            }
            (store.queries() - before) as f64 / 100.0
        };
        figures.push(StoreFigures {
            store: name.clone(),
            by_username_ns: ns_per_call(calls, || {
                black_box(tool.get_totp_code(&by_username, BENCH_USER));
            }),
            auto_resolve_ns: ns_per_call(calls, || {
                black_box(tool.get_totp_code(&resolving, ""));
            }),
            queries_by_username: queries(&by_username, BENCH_USER),
            queries_auto_resolve: queries(&resolving, ""),
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

//! `totp-bench`: measures the get_totp_code tool on this machine. Kept out
//! of the product binary `totp-host`, whose commands are what an operator
//! uses.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use totp_host::{Store, StoreKey};
use wasmtime::Result;

mod bench;

/// Measurement of the get_totp_code component and its reference host.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure the tool on this machine: ns per call natively, in a warm
    /// instance and in a fresh instance per call, against pyotp.
    Bench {
        /// Calls to time per mode.
        #[arg(long, default_value_t = 20_000)]
        calls: u64,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
        /// Python interpreter with pyotp, for the baseline.
        #[arg(long, default_value = "python3")]
        python: String,
    },
    /// Load test: many fresh-instance calls across threads on one engine;
    /// prints failures and resident memory after warm-up and at the end.
    Load {
        /// Calls in all.
        #[arg(long, default_value_t = 1_000_000)]
        calls: u64,
        /// Threads sharing the engine.
        #[arg(long, default_value_t = 4)]
        threads: u64,
        /// The agent user every call asks the store of --db for (without
        /// it, the calls go to an in-memory agent).
        #[arg(long, requires = "db")]
        username: Option<String>,
        /// The store `--username` is asked of (an SQLite file or a
        /// PostgreSQL URL).
        #[arg(long, value_name = "PATH|URL")]
        db: Option<String>,
        /// The key that opens sealed secrets in --db. Default: as `totp-host`
        /// ($TOTP_HOST_KEY, else $XDG_CONFIG_HOME/totp-host/store.key).
        #[arg(long, value_name = "PATH")]
        key_file: Option<PathBuf>,
        /// Write /tmp/perf-<pid>.map naming the guest's compiled functions,
        /// for `perf record` (see host-test/bench/README.md).
        #[arg(long)]
        perf_map: bool,
    },
    /// Per-call cost against each store given (SQLite paths, PostgreSQL
    /// URLs), in one run: by username, auto-resolved, queries per call,
    /// throughput with 1, 2 and 4 threads. Writes a bench agent into each.
    BenchStores {
        /// Calls to time per figure.
        #[arg(long, default_value_t = 5_000)]
        calls: u64,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
        /// The stores.
        #[arg(required = true, value_name = "STORE")]
        stores: Vec<String>,
    },
}

fn main() -> ExitCode {
    let Cli { command } = Cli::parse();
    let outcome = match command {
        Command::Bench {
            calls,
            json,
            python,
        } => bench::bench(calls, json, &python),
        Command::Load {
            calls,
            threads,
            username,
            db,
            key_file,
            perf_map,
        } => match (username, db) {
            (Some(username), Some(db)) => open_store(&db, key_file.as_deref())
                .and_then(|store| bench::load(calls, threads, Some((store, username)), perf_map)),
            _ => bench::load(calls, threads, None, perf_map),
        },
        Command::BenchStores {
            calls,
            json,
            stores,
        } => bench::bench_stores(calls, &stores, json),
    };
    outcome.unwrap_or_else(|error| {
        eprintln!("totp-bench: {error:#}");
        ExitCode::from(2)
    })
}

/// The store of `--db`, with the store key when there is one (sealed
/// secrets need it; none is created).
fn open_store(db: &str, key_file: Option<&std::path::Path>) -> Result<Store> {
    let mut store = Store::open(db)?;
    if let Some(key) = StoreKey::locate(key_file, false)? {
        store = store.with_key(key);
    }
    Ok(store)
}

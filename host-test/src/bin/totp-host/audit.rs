//! `totp-host audit`: the store's audit trail, listed for people (an aligned
//! table) or machines (`--json`, one event per line), and `audit prune`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use totp_host::audit::parse_time;
use totp_host::{AuditEvent, AuditFilter};
use wasmtime::Result;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    action: Option<AuditAction>,
    /// Only events at or after this time (RFC 3339 or Unix seconds).
    #[arg(long, value_name = "RFC3339|UNIX", value_parser = parse_time)]
    since: Option<i64>,
    /// Only events whose requested or resolved username is this one.
    #[arg(long, value_name = "USERNAME")]
    username: Option<String>,
    /// Only calls from tool nodes of this workflow.
    #[arg(long, value_name = "ID")]
    workflow: Option<String>,
    /// At most this many events (the newest).
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// One JSON object per event and line, instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum AuditAction {
    /// Delete the events from before a time; prints how many.
    Prune {
        /// Delete events older than this (RFC 3339 or Unix seconds).
        #[arg(long, value_name = "RFC3339|UNIX", value_parser = parse_time)]
        before: i64,
    },
}

pub fn audit(store: &crate::StoreArgs, args: AuditArgs) -> Result<ExitCode> {
    let (store, _) = store.open(crate::Access::Read)?;
    if let Some(AuditAction::Prune { before }) = args.action {
        let deleted = store.prune_audit_events(before)?;
        println!("{}", serde_json::json!({ "deleted": deleted }));
        return Ok(ExitCode::SUCCESS);
    }
    let events = store.audit_events(&AuditFilter {
        since: args.since,
        username: args.username,
        workflow: args.workflow,
        limit: args.limit,
    })?;
    if args.json {
        for event in &events {
            println!("{}", serde_json::to_string(event)?);
        }
    } else {
        print!("{}", table(&events));
    }
    Ok(ExitCode::SUCCESS)
}

/// The events as a table whose columns line up; `-` for an empty field.
fn table(events: &[AuditEvent]) -> String {
    const HEADER: [&str; 9] = [
        "TIME",
        "OUTCOME",
        "OPERATION",
        "REQUESTED",
        "RESOLVED",
        "WORKFLOW",
        "NODE",
        "MS",
        "HOST ERROR",
    ];
    let or_dash = |text: Option<&str>| match text {
        Some(text) if !text.is_empty() => text.to_owned(),
        _ => "-".to_owned(),
    };
    let rows: Vec<[String; 9]> = events
        .iter()
        .map(|e| {
            [
                e.time.clone(),
                e.outcome.clone(),
                e.operation.clone(),
                or_dash(Some(&e.username_requested)),
                or_dash(e.username_resolved.as_deref()),
                or_dash(e.workflow_id.as_deref()),
                or_dash(e.node_id.as_deref()),
                format!("{:.1}", e.duration_us as f64 / 1000.0),
                // One line per event, whatever the host's text holds.
                or_dash(e.host_error.as_deref()).replace(['\n', '\r'], " "),
            ]
        })
        .collect();
    let mut widths = HEADER.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                out += cell;
            } else {
                out += &format!("{cell:<width$}  ");
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(&HEADER.map(str::to_owned));
    for row in &rows {
        out += &line(row);
    }
    out
}

//! `totp-host`: the reference host's command line.
//!
//! Prints the component's JSON on stdout. Exit status: 0 when the tool
//! succeeded, 1 when it answered `success: false`, 2 for usage errors or
//! when the host itself could not start.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

mod artifact;
mod audit;
mod logs;
#[cfg(feature = "mcp")]
mod mcp;

use clap::{Args, Parser, Subcommand, ValueEnum};
use totp_host::{
    AccessPolicy, Audit, Call, Clock, NodeRef, SandboxConfig, Store, StoreKey, TotpTool,
};
use wasmtime::Result;
use wasmtime::error::Context;

/// Reference host for the get_totp_code WebAssembly component.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The store: an SQLite file (created with the schema when missing), or
    /// a PostgreSQL URL (`postgres://user@host:port/db`) or connection
    /// string (`host=/path/to/socket dbname=db`). Without it, a per-user
    /// demo store is used, seeded on first use.
    #[arg(long, global = true, value_name = "PATH|URL")]
    db: Option<String>,

    /// Which users a tool node may get codes of: only agents of its own
    /// workflow, or any agent user (people never).
    #[arg(long, global = true, value_enum, default_value_t = Policy::OwnWorkflow)]
    policy: Policy,

    /// The 256-bit key that seals secrets at rest (and signs the compiled
    /// cache). Default: $TOTP_HOST_KEY (base64), else
    /// $XDG_CONFIG_HOME/totp-host/store.key, created on first use.
    #[arg(long, global = true, value_name = "PATH")]
    key_file: Option<PathBuf>,

    /// Run this build of the component (same WIT world) instead of the
    /// embedded one; refused when it imports more than the world.
    #[arg(long, global = true, value_name = "PATH")]
    component: Option<PathBuf>,

    /// The SHA-256 (hex) the --component file must have.
    #[arg(long, global = true, value_name = "HEX", requires = "component")]
    component_sha256: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Policy {
    /// Agents of the calling tool node's workflow only.
    OwnWorkflow,
    /// Any agent user of any workflow (the reference platform's behaviour).
    AnyAgent,
}

#[derive(Subcommand)]
enum Command {
    /// Call the tool: print the current TOTP code of an agent user as JSON.
    GetTotpCode {
        /// The agent user; omit it to resolve the agent linked to --node.
        #[arg(long, default_value = "")]
        username: String,
        /// Workflow of the calling tool node (with --node).
        #[arg(long, value_name = "ID", requires = "node")]
        workflow: Option<String>,
        /// The calling tool node's id (with --workflow).
        #[arg(long, value_name = "NODE_ID", requires = "workflow")]
        node: Option<String>,
        /// Compute the code for this Unix time instead of now.
        #[arg(long, value_name = "UNIX_SECONDS")]
        at: Option<u64>,
        #[command(flatten)]
        validity: MinValidity,
    },
    /// Create the agent user of a tool node (idempotent), as the platform
    /// does when an agent gets the tool.
    CreateAgentUser {
        /// Workflow of the tool node.
        #[arg(long, value_name = "ID")]
        workflow: String,
        /// The tool node; its `tool` edge leads to the agent.
        #[arg(long, value_name = "NODE")]
        tool_node: String,
        /// Store a given secret (base32 or otpauth:// URI) instead of a fresh
        /// 160-bit one, read from standard input: `--secret -`. A secret
        /// written on the command line itself is refused.
        #[arg(
            long,
            value_name = "-",
            allow_hyphen_values = true,
            conflicts_with = "secret_file"
        )]
        secret: Option<String>,
        /// Store the secret held in this file (surrounding whitespace is
        /// ignored) instead of a fresh one.
        #[arg(long, value_name = "PATH")]
        secret_file: Option<PathBuf>,
        /// Print the stored secret (only for a user created by this call).
        #[arg(long)]
        show_secret: bool,
    },
    /// Link a tool node to an agent node with a `tool` edge.
    LinkTool {
        /// Workflow id; its row is created when missing.
        #[arg(long, value_name = "ID")]
        workflow: String,
        /// The workflow's slug, used in agent usernames.
        #[arg(long)]
        slug: String,
        /// The tool node (edge source).
        #[arg(long, value_name = "NODE")]
        tool_node: String,
        /// The agent node (edge target).
        #[arg(long, value_name = "NODE")]
        agent_node: String,
    },
    /// Print the tool definition to register with an LLM.
    Describe,
    /// Serve the tool over the Model Context Protocol: stdio (one client,
    /// bound to --workflow/--node) or streamable HTTP (--http; each bearer
    /// token bound to its node).
    #[cfg(feature = "mcp")]
    Mcp(mcp::McpArgs),
    /// Bearer tokens of `mcp --http`.
    #[cfg(feature = "mcp")]
    #[command(subcommand)]
    Token(mcp::TokenCommand),
    /// Maintain the store.
    #[command(subcommand)]
    Store(StoreCommand),
    /// List the audit trail (newest first), or prune it.
    Audit(audit::AuditArgs),
    /// Print a component's world, imports, exports, metadata, size and
    /// SHA-256 as JSON (the embedded component without PATH).
    Inspect {
        /// A component file.
        path: Option<PathBuf>,
    },
    /// Write the embedded component, the standard-WASI builds for
    /// third-party hosts, the binary WIT package and SHA256SUMS into a
    /// directory, for a deployment to pin.
    Dist {
        /// The directory (created when missing).
        #[arg(long, value_name = "DIR", default_value = "dist")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Seal every plain-text secret (rows written by other tools) with the
    /// store key, in one transaction.
    Encrypt,
    /// Re-seal every secret under a new key, in one transaction, and sign
    /// the precompiled cache again: codes are unchanged, and the current
    /// key (--key-file) opens no row afterwards.
    Rekey {
        /// The new key: read when the file exists, else made (mode 0600).
        #[arg(long, value_name = "PATH")]
        new_key_file: PathBuf,
    },
}

/// `--min-validity`, shared by `get-totp-code` and `mcp`.
#[derive(Args, Debug, Clone, Copy)]
pub struct MinValidity {
    /// Hand out only a code valid for at least this many seconds: when the
    /// current one expires sooner, wait (less than SECONDS) for the next
    /// period's. 0: the current code, however soon it expires.
    #[arg(long = "min-validity", value_name = "SECONDS", default_value_t = 0)]
    seconds: u64,
}

impl MinValidity {
    pub fn duration(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.seconds)
    }
}

/// The demo store's workflow: its tool node is linked to one agent.
const DEMO_WORKFLOW: &str = "demo-workflow";
const DEMO_SLUG: &str = "my-workflow";
const DEMO_TOOL_NODE: &str = "tool_totp";
const DEMO_AGENT_NODE: &str = "agent_abc123";

/// `--component` and `--component-sha256`, set once from the global flags:
/// every command that loads the tool honours them through `load_tool`.
static COMPONENT_FILE: OnceLock<(PathBuf, Option<String>)> = OnceLock::new();

fn main() -> ExitCode {
    let Cli {
        db,
        policy,
        key_file,
        component,
        component_sha256,
        command,
    } = Cli::parse();
    // The readable form, unless `mcp --log-format json` asks otherwise
    // (commands other than `mcp` have no log format to choose).
    #[cfg(feature = "mcp")]
    let serves = matches!(command, Command::Mcp(_));
    #[cfg(not(feature = "mcp"))]
    let serves = false;
    if !serves {
        logs::init(logs::LogFormat::Text);
    }
    let store = StoreArgs { db, key_file };
    if let Some(path) = component {
        let _ = COMPONENT_FILE.set((path, component_sha256));
    }
    let outcome = match command {
        Command::GetTotpCode {
            username,
            workflow,
            node,
            at,
            validity,
        } => get_totp_code(&store, policy, &username, workflow.zip(node), at, validity),
        Command::CreateAgentUser {
            workflow,
            tool_node,
            secret,
            secret_file,
            show_secret,
        } => given_secret(secret, secret_file).and_then(|secret| {
            create_agent_user(
                &store,
                workflow,
                tool_node,
                secret.as_deref().map(|s| s.as_str()),
                show_secret,
            )
        }),
        Command::LinkTool {
            workflow,
            slug,
            tool_node,
            agent_node,
        } => link_tool(&store, &workflow, &slug, &tool_node, &agent_node),
        Command::Describe => describe(&store),
        #[cfg(feature = "mcp")]
        Command::Mcp(args) => mcp::mcp(&store, policy, args),
        #[cfg(feature = "mcp")]
        Command::Token(command) => mcp::token(&store, command),
        Command::Store(StoreCommand::Encrypt) => encrypt_store(&store),
        Command::Store(StoreCommand::Rekey { new_key_file }) => rekey_store(&store, &new_key_file),
        Command::Audit(args) => audit::audit(&store, args),
        Command::Inspect { path } => artifact::inspect(path.as_deref()),
        Command::Dist { out } => artifact::dist(&out),
    };
    outcome.unwrap_or_else(|error| {
        eprintln!("totp-host: {error:#}");
        ExitCode::from(2)
    })
}

fn access_policy(policy: Policy) -> AccessPolicy {
    match policy {
        Policy::OwnWorkflow => AccessPolicy::OwnWorkflow,
        Policy::AnyAgent => AccessPolicy::AnyAgent,
    }
}

/// Exit status 0 when the tool's result says `success`, 1 otherwise.
fn exit_status(result: &str) -> ExitCode {
    let success = serde_json::from_str::<serde_json::Value>(result)
        .ok()
        .and_then(|v| v.get("success").and_then(serde_json::Value::as_bool))
        .unwrap_or(false);
    if success {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn get_totp_code(
    store: &StoreArgs,
    policy: Policy,
    username: &str,
    node: Option<(String, String)>,
    at: Option<u64>,
    validity: MinValidity,
) -> Result<ExitCode> {
    let (directory, default_node) = store.open(Access::Read)?;
    let directory = Arc::new(directory);
    // Every code the CLI hands out is on record in the store it read it from.
    let tool = load_tool(store, Audit::To(directory.clone()))?;
    let mut call = Call::new(directory).with_policy(access_policy(policy));
    call.node = node
        .map(|(workflow, node)| NodeRef::new(workflow, node))
        .or(default_node);
    if let Some(seconds) = at {
        call.clock = Clock::Fixed(seconds);
    }
    let result = tool.get_totp_code(&call.with_min_validity(validity.duration()), username);
    println!("{result}");
    Ok(exit_status(&result))
}

/// The secret `create-agent-user` was given: from standard input
/// (`--secret -`) or a file (`--secret-file`). Never from the command line
/// itself, where every local user can read it (`ps`, /proc) and where it
/// stays in the shell's history; the refusal does not repeat it.
fn given_secret(
    secret: Option<String>,
    secret_file: Option<PathBuf>,
) -> Result<Option<zeroize::Zeroizing<String>>> {
    let text = match (secret.as_deref(), secret_file) {
        (None, None) => return Ok(None),
        (Some("-"), _) => {
            let mut text = zeroize::Zeroizing::new(String::new());
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .context("reading the secret from standard input")?;
            text
        }
        (Some(_), _) => wasmtime::bail!(
            "a secret on the command line is refused: any local user can read it \
             (ps, /proc) and it stays in the shell's history; give it on standard \
             input with `--secret -`, or in a file with `--secret-file PATH`"
        ),
        (None, Some(path)) => zeroize::Zeroizing::new(
            std::fs::read_to_string(&path)
                .with_context(|| format!("reading the secret from {}", path.display()))?,
        ),
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        wasmtime::bail!("the secret given to create-agent-user is empty");
    }
    Ok(Some(zeroize::Zeroizing::new(trimmed.to_owned())))
}

fn create_agent_user(
    store: &StoreArgs,
    workflow: String,
    tool_node: String,
    secret: Option<&str>,
    show_secret: bool,
) -> Result<ExitCode> {
    let (directory, _) = store.open(Access::Write)?;
    let provisioned = directory.create_agent_user(&NodeRef::new(workflow, tool_node), secret)?;
    let mut out = serde_json::json!({
        "username": provisioned.username,
        "already_existed": provisioned.already_existed,
    });
    if let (true, Some(secret)) = (show_secret, &provisioned.secret) {
        out["totp_secret"] = secret.as_str().into();
    }
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn link_tool(
    store: &StoreArgs,
    workflow: &str,
    slug: &str,
    tool_node: &str,
    agent_node: &str,
) -> Result<ExitCode> {
    let (directory, _) = store.open(Access::Write)?;
    directory.link_tool(workflow, slug, tool_node, agent_node)?;
    println!(
        "{}",
        serde_json::json!({"workflow": workflow, "slug": slug,
            "tool_node": tool_node, "agent_node": agent_node, "linked": true})
    );
    Ok(ExitCode::SUCCESS)
}

fn describe(store: &StoreArgs) -> Result<ExitCode> {
    let definition = load_tool(store, Audit::Off)?.describe()?;
    println!("{definition}");
    Ok(ExitCode::SUCCESS)
}

fn encrypt_store(store: &StoreArgs) -> Result<ExitCode> {
    let (directory, _) = store.open(Access::Write)?;
    let sealed = directory.seal_plain_secrets()?;
    println!("{}", serde_json::json!({ "sealed": sealed }));
    Ok(ExitCode::SUCCESS)
}

fn rekey_store(store: &StoreArgs, new_key_file: &std::path::Path) -> Result<ExitCode> {
    let (directory, _) = store.open(Access::Read)?;
    let Some(old_key) = store.key(false)? else {
        wasmtime::bail!(
            "store rekey needs the current key (--key-file or $TOTP_HOST_KEY); none was found"
        );
    };
    let new_key = if new_key_file.exists() {
        StoreKey::read_file(new_key_file)?
    } else {
        StoreKey::create_file(new_key_file)?
    };
    let resealed = directory.rekey(&new_key).with_context(
        || "store rekey changed nothing: every secret is still sealed under the current key",
    )?;
    let cache_resigned = totp_host::cache::default_cache_dir()
        .map_or(0, |dir| totp_host::cache::resign(&dir, &old_key, &new_key));
    tracing::info!(
        "every secret is now sealed under {}: use it as --key-file (or $TOTP_HOST_KEY) \
         from now on; the previous key opens no row",
        new_key_file.display()
    );
    println!(
        "{}",
        serde_json::json!({
            "resealed": resealed,
            "cache_resigned": cache_resigned,
            "key_file": new_key_file,
        })
    );
    Ok(ExitCode::SUCCESS)
}

/// Where the store and its key are.
struct StoreArgs {
    db: Option<String>,
    key_file: Option<PathBuf>,
}

/// Whether a command writes secrets (and so needs a key, made on first use)
/// or only reads them (a key opens sealed ones when there is one).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

impl StoreArgs {
    fn key(&self, create: bool) -> Result<Option<StoreKey>> {
        Ok(StoreKey::locate(self.key_file.as_deref(), create)?)
    }

    /// The store named by `--db`, or the per-user demo store, whose tool
    /// node is the default calling context so that a bare `get-totp-code`
    /// prints a code; for a command that makes its call and exits
    /// ([`Store::short_lived`]).
    fn open(&self, access: Access) -> Result<(Store, Option<NodeRef>)> {
        let (store, node) = self.open_serving(access)?;
        Ok((store.short_lived()?, node))
    }

    /// The same store for a process that keeps it open (a server, a load
    /// run): SQLite's own checkpointing.
    fn open_serving(&self, access: Access) -> Result<(Store, Option<NodeRef>)> {
        if let Some(db) = &self.db {
            let mut directory = Store::open(db)?;
            if let Some(key) = self.key(access == Access::Write)? {
                directory = directory.with_key(key);
            }
            return Ok((directory, None));
        }
        let path = default_store_path()?;
        let fresh = !path.exists();
        let mut directory = Store::sqlite(&path)?;
        if let Some(key) = self.key(access == Access::Write || fresh)? {
            directory = directory.with_key(key);
        }
        if fresh {
            directory.link_tool(DEMO_WORKFLOW, DEMO_SLUG, DEMO_TOOL_NODE, DEMO_AGENT_NODE)?;
            let node = NodeRef::new(DEMO_WORKFLOW, DEMO_TOOL_NODE);
            directory
                .create_agent_user(&node, None)
                .context("seeding the demo store")?;
            eprintln!("totp-host: created the demo store {}", path.display());
        }
        Ok((directory, Some(NodeRef::new(DEMO_WORKFLOW, DEMO_TOOL_NODE))))
    }
}

/// The component, from the per-user cache of its compiled form when there
/// is one that verifies under the store key: a process that only prints a
/// code should not run a compiler. One call per process: reserving a pool
/// of instance slots would cost more than it saves, so instances are
/// allocated on demand.
fn load_tool(store: &StoreArgs, audit: Audit) -> Result<TotpTool> {
    let config = SandboxConfig {
        pooling: false,
        ..SandboxConfig::default()
    };
    load_tool_with(store, config, audit)
}

/// `load_tool` with the sandbox's configuration given (a server pools).
fn load_tool_with(store: &StoreArgs, config: SandboxConfig, audit: Audit) -> Result<TotpTool> {
    if let Some((path, sha256)) = COMPONENT_FILE.get() {
        return Ok(TotpTool::from_file(path, sha256.as_deref(), config, audit)?);
    }
    match (totp_host::cache::default_cache_dir(), store.key(true)?) {
        (Some(dir), Some(key)) => TotpTool::cached(&dir, &key, config, audit),
        _ => TotpTool::with_config(config, audit),
    }
}

/// `$XDG_DATA_HOME/totp-host/store.sqlite3` (`~/.local/share/...` on Linux;
/// the platform's local data directory elsewhere).
fn default_store_path() -> Result<PathBuf> {
    let base = dirs::data_local_dir()
        .context("no per-user data directory on this system; pass --db PATH")?;
    Ok(base.join("totp-host").join("store.sqlite3"))
}

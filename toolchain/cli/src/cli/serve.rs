use std::path::PathBuf;
use std::process::ExitCode;

use skill_engine::Allocation;

use super::Context;
use skill_serve::http::{HttpOptions, serve, serve_stdio};
use skill_serve::security::required_token;
use skill_serve::{Selection, ServeState, init_logging};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Endpoints (HTTP):
  /mcp                      MCP streamable HTTP (tools named <skill>_<instance>__<tool>)
  GET  /api/v1/skills       installed skills, instances and tools
  POST /api/v1/execute      {\"skill\": \"hello@default\", \"tool\": \"greet\", \"args\": {...}}
  POST /api/v1/stream       the same, as server-sent events (start, progress, done, close)
  GET  /api/v1/ws           WebSocket: execute requests in, progress and results out
  /health  /ready  /metrics /api/v1/openapi.json

Examples:
  skill serve --stdio               What an MCP client launches (see `skill mcp-config`)
  skill serve                       REST + MCP on http://127.0.0.1:3000
  skill serve aws@prod --port 8080  Only one instance's tools
  skill serve --unix ~/.skill.sock  Only your user can connect (curl --unix-socket ...)
  skill serve --token auto          Clients need the token in $SKILL_HOME/serve.token
  skill serve --host 0.0.0.0 --token auto   Any other address needs a token

Every route answers only requests whose Host is a loopback name (or --allowed-host) and,
when a browser sends an Origin, only the origins given with --cors-origin.")]
pub struct Args {
    /// Serve only this skill (NAME) or one instance of it (NAME@INSTANCE)
    #[arg(value_name = "NAME[@INSTANCE]")]
    only: Option<String>,

    /// Speak MCP on stdin/stdout instead of listening on a port
    #[arg(long, conflicts_with_all = ["http_only", "mcp_only", "host", "port", "tls_cert"])]
    stdio: bool,

    /// Address to listen on; anything but loopback needs a bearer token [default: setting
    /// serve.host, 127.0.0.1]
    #[arg(long)]
    host: Option<String>,

    /// Port to listen on (0 picks a free one) [default: setting serve.port, 3000]
    #[arg(long, short)]
    port: Option<u16>,

    /// Serve the REST API only (no /mcp)
    #[arg(long, conflicts_with = "mcp_only")]
    http_only: bool,

    /// Serve /mcp only (no REST API)
    #[arg(long)]
    mcp_only: bool,

    /// Bearer token clients must send: the token, `auto` (a random one kept in
    /// $SKILL_HOME/serve.token) or `file:PATH` (default: setting serve.token, $SKILL_SERVE_TOKEN). On a shared
    /// machine, use one even on loopback: any local user can reach 127.0.0.1
    #[arg(long)]
    token: Option<String>,

    /// Listen on this Unix socket (mode 0600) instead of a TCP port
    #[arg(long, value_name = "PATH", conflicts_with_all = ["host", "port", "tls_cert"])]
    unix: Option<PathBuf>,

    /// PEM certificate chain: serve HTTPS (needs --tls-key)
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    tls_cert: Option<PathBuf>,

    /// PEM private key for --tls-cert
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    tls_key: Option<PathBuf>,

    /// Allow browser pages from this origin (CORS; repeat, or `*` for any)
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,

    /// Accept this Host header on /mcp besides loopback names (repeat; DNS rebinding guard)
    #[arg(long = "allowed-host", value_name = "HOST")]
    allowed_hosts: Vec<String>,

    /// Largest request body (and WebSocket message) accepted, e.g. 1MiB
    #[arg(long, default_value = "1MiB", value_name = "SIZE")]
    max_body: String,

    /// Connections served at once; more wait to be accepted
    #[arg(long, default_value_t = 512, value_name = "N")]
    max_connections: usize,

    /// Memory running and kept instances may hold at once, e.g. 8GiB (default: half of
    /// this machine's memory). Each call reserves its instance's memory limit plus its
    /// output buffers; calls beyond the budget wait
    #[arg(long, value_name = "SIZE")]
    memory_budget: Option<String>,

    /// Run every call in a new instance. By default an instance is kept for the next call
    /// of the same skill instance (guest globals persist between those calls; a call that
    /// traps or hits a limit discards it)
    #[arg(long)]
    fresh_instances: bool,

    /// What MCP clients see: `all` lists every tool of every instance; `search` lists three
    /// tools (find_tools, describe_tool, call_tool) so an agent loads a few hundred tokens
    /// instead of every schema, and finds tools by task (docs/discovery.md)
    #[arg(long, value_name = "all|search", default_value = "all", value_parser = ["all", "search"])]
    tools: String,

    /// Log as JSON lines (on stderr)
    #[arg(long)]
    log_json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    init_logging(ctx.printer.is_verbose(), args.log_json);
    let home = ctx.home()?;
    // Flags over $SKILL_SERVE_* over config.toml over the defaults.
    let settings = &ctx.settings;
    let host = args
        .host
        .clone()
        .unwrap_or_else(|| settings.get("serve.host").to_string());
    let port = match args.port {
        Some(port) => port,
        None => settings.get("serve.port").parse()?,
    };
    let token_setting = settings.get("serve.token");
    let token_source = args
        .token
        .clone()
        .or_else(|| (!token_setting.is_empty()).then(|| token_setting.to_string()));
    let selection = args
        .only
        .as_deref()
        .map(Selection::parse)
        .unwrap_or_default();
    let max_body_bytes = skill_manifest::capabilities::parse_size(&args.max_body)
        .map_err(|e| skill_engine::Error::invalid(format!("--max-body: {}", e.message())))?;
    let token = if args.stdio || args.unix.is_some() {
        None
    } else {
        required_token(&home, &host, token_source.clone())?
    };
    let memory_budget_mib = match &args.memory_budget {
        Some(size) => {
            let bytes = skill_manifest::capabilities::parse_size(size).map_err(|e| {
                skill_engine::Error::invalid(format!("--memory-budget: {}", e.message()))
            })?;
            u32::try_from(bytes >> 20).unwrap_or(u32::MAX).max(1)
        }
        None => skill_serve::executor::default_memory_budget_mib(),
    };
    if args.cors_origins.iter().any(|o| o == "*") && token.is_none() {
        ctx.printer.warn(
            "--cors-origin '*' lets any web page you visit run your tools; give the server a token (--token auto)",
        );
    }
    // The search settings, as `skill find` reads them. A server's are checked here, before the
    // async runtime (its blocking HTTP client may not be made there); the local model is
    // loaded on the first search.
    let search = skill_index::embed::Provider {
        name: settings.get("search.provider").to_string(),
        url: settings.get("search.url").to_string(),
        model: settings.get("search.model").to_string(),
    };
    if args.tools == "search" {
        search.check(&home)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("skill-serve")
        .build()?;
    let served = runtime.block_on(async move {
        let tools_mode = match args.tools.as_str() {
            "search" => skill_serve::ToolsMode::Search,
            _ => skill_serve::ToolsMode::All,
        };
        let state = ServeState::new(
            home.clone(),
            selection,
            tools_mode,
            search,
            !args.fresh_instances,
            memory_budget_mib,
        )?;
        if let Allocation::OnDemand { reason } = &state.executor.allocation {
            tracing::warn!("instance pool unavailable, allocating per call: {reason}");
        }
        state.watch_home()?;
        // A timer that is always pending keeps tokio's driver waking at least this often, so
        // the per-request timers (header and body timeouts, call deadlines: all seconds away)
        // never have to wake it early with a syscall. Measured: ~3 eventfd writes a request
        // without it.
        tokio::spawn(async {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        });
        state.preload();
        let catalog = state.catalog();
        let summary = format!(
            "{} tools from {} skills",
            catalog.routes().count(),
            catalog.skills.len()
        );
        if args.stdio {
            tracing::info!("serving MCP on stdio: {summary}");
            serve_stdio(state).await?;
            return anyhow::Ok(());
        }
        let token_file = (token_source.as_deref() == Some("auto"))
            .then(|| home.root().join(skill_serve::security::TOKEN_FILE));
        let options = HttpOptions {
            host: host.clone(),
            port,
            unix: args.unix.clone(),
            max_connections: args.max_connections,
            token,
            tls: args.tls_cert.clone().zip(args.tls_key.clone()),
            rest: !args.mcp_only,
            mcp: !args.http_only,
            cors_origins: args.cors_origins.clone(),
            allowed_hosts: args.allowed_hosts.clone(),
            max_body_bytes,
        };
        let quiet = ctx.printer.is_quiet();
        serve(state, options.clone(), |addr, tls| {
            if !quiet {
                let scheme = if tls { "https" } else { "http" };
                let what = match (options.rest, options.mcp) {
                    (true, true) => "REST /api/v1, MCP /mcp",
                    (true, false) => "REST /api/v1",
                    _ => "MCP /mcp",
                };
                match addr.strip_prefix("unix:") {
                    Some(path) => {
                        eprintln!(
                            "skill serve: listening on unix socket {path} ({what}; {summary})"
                        )
                    }
                    None => {
                        eprintln!("skill serve: listening on {scheme}://{addr} ({what}; {summary})")
                    }
                }
                if let Some(file) = &token_file {
                    eprintln!(
                        "skill serve: clients need the bearer token in {}",
                        file.display()
                    );
                }
            }
        })
        .await?;
        Ok(())
    });
    // Running calls were drained; a blocking thread stuck for good (an open of a FIFO nobody
    // writes) must not keep the process from exiting.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    served?;
    Ok(ExitCode::SUCCESS)
}

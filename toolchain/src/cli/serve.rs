use std::path::PathBuf;
use std::process::ExitCode;

use skill_runtime::Allocation;

use super::Context;
use crate::serve::http::{HttpOptions, serve, serve_stdio};
use crate::serve::security::{TOKEN_ENV, required_token};
use crate::serve::{Selection, ServeState, init_logging};

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
  SKILL_SERVE_TOKEN=... skill serve --host 0.0.0.0   Any other address needs a token")]
pub struct Args {
    /// Serve only this skill (NAME) or one instance of it (NAME@INSTANCE)
    #[arg(value_name = "NAME[@INSTANCE]")]
    only: Option<String>,

    /// Speak MCP on stdin/stdout instead of listening on a port
    #[arg(long, conflicts_with_all = ["http_only", "mcp_only", "host", "port", "tls_cert"])]
    stdio: bool,

    /// Address to listen on; anything but loopback needs a bearer token
    #[arg(long, default_value = "127.0.0.1")]
    host: String,

    /// Port to listen on (0 picks a free one)
    #[arg(long, short, default_value_t = 3000)]
    port: u16,

    /// Serve the REST API only (no /mcp)
    #[arg(long, conflicts_with = "mcp_only")]
    http_only: bool,

    /// Serve /mcp only (no REST API)
    #[arg(long)]
    mcp_only: bool,

    /// Bearer token clients must send (default: $SKILL_SERVE_TOKEN)
    #[arg(long, env = TOKEN_ENV, hide_env_values = true)]
    token: Option<String>,

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

    /// Largest request body accepted, e.g. 1MiB
    #[arg(long, default_value = "1MiB", value_name = "SIZE")]
    max_body: String,

    /// Run every call in a new instance. By default an instance is kept for the next call
    /// of the same skill instance (guest globals persist between those calls; a call that
    /// traps or hits a limit discards it)
    #[arg(long)]
    fresh_instances: bool,

    /// Log as JSON lines (on stderr)
    #[arg(long)]
    log_json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    init_logging(ctx.printer.is_verbose(), args.log_json);
    let home = ctx.home()?;
    let selection = args
        .only
        .as_deref()
        .map(Selection::parse)
        .unwrap_or_default();
    let max_body_bytes = skill_runtime::capabilities::parse_size(&args.max_body)
        .map_err(|e| skill_runtime::Error::invalid(format!("--max-body: {}", e.message())))?;
    let token = if args.stdio {
        None
    } else {
        required_token(&args.host, args.token.clone())?
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("skill-serve")
        .build()?;
    runtime.block_on(async move {
        let state = ServeState::new(home, selection, !args.fresh_instances)?;
        if let Allocation::OnDemand { reason } = &state.executor.allocation {
            tracing::warn!("instance pool unavailable, allocating per call: {reason}");
        }
        state.watch_home()?;
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
        let options = HttpOptions {
            host: args.host.clone(),
            port: args.port,
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
                eprintln!("skill serve: listening on {scheme}://{addr} ({what}; {summary})");
            }
        })
        .await?;
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

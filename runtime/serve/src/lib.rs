//! `skill serve`: installed skill instances as MCP tools (stdio and streamable HTTP) and a
//! REST API, sharing one catalog, one executor and one watcher of `$SKILL_HOME`.
//!
//! Layout: `catalog` (what is offered, from manifests), `executor` (running calls),
//! `mcp` (the rmcp handler), `rest` (axum routes), `security` (token, bind policy),
//! `metrics` (Prometheus text), `hint` (errors' hints for remote clients), `http` (listener, TLS, graceful shutdown), `json_reply`
//! (single-message MCP replies as JSON instead of SSE), `mcp_direct` (plain session
//! `tools/call` without rmcp's session round trips).

pub mod catalog;
pub mod executor;
pub mod hint;
pub mod http;
pub mod json_reply;
pub mod mcp;
pub mod mcp_direct;
pub mod metrics;
pub mod rest;
pub mod search;
pub mod security;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use notify_debouncer_full::notify::event::{ModifyKind, RemoveKind};
use notify_debouncer_full::notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use skill_engine::{Result, SkillHome};

pub use catalog::{Catalog, Route, Selection};
pub use executor::Executor;

/// How long file events settle before the catalog is reloaded.
const RELOAD_DEBOUNCE: Duration = Duration::from_millis(150);

/// What MCP clients see in `tools/list`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ToolsMode {
    /// Every tool of every served instance.
    #[default]
    All,
    /// Three meta tools: find, describe and call (see `search`).
    Search,
}

/// Everything the MCP handler and the REST routes share.
pub struct ServeState {
    pub home: SkillHome,
    pub selection: Selection,
    pub tools_mode: ToolsMode,
    searcher: search::Searcher,
    catalog: RwLock<Arc<Catalog>>,
    pub executor: Arc<Executor>,
    /// Bumped whenever the tools a client sees change; MCP sessions watch it.
    pub tools_changed: tokio::sync::watch::Sender<u64>,
    ready: AtomicBool,
}

impl ServeState {
    /// `reuse_instances`: keep warm instances between calls of one skill instance.
    /// `memory_budget_mib`: what running and kept instances may hold at once.
    pub fn new(
        home: SkillHome,
        selection: Selection,
        tools_mode: ToolsMode,
        search: skill_index::embed::Provider,
        reuse_instances: bool,
        memory_budget_mib: u32,
    ) -> Result<Arc<Self>> {
        let catalog = Catalog::load(&home, &selection, true)?;
        let executor = Arc::new(Executor::new(
            home.clone(),
            reuse_instances,
            memory_budget_mib,
        )?);
        let (tools_changed, _) = tokio::sync::watch::channel(0);
        Ok(Arc::new(ServeState {
            home,
            selection,
            tools_mode,
            searcher: search::Searcher::new(search),
            catalog: RwLock::new(Arc::new(catalog)),
            executor,
            tools_changed,
            ready: AtomicBool::new(false),
        }))
    }

    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().expect("catalog lock").clone()
    }

    /// Ready once every component is loaded (first calls then pay no compile/deserialize).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Loads every component in the background; `/ready` turns true when done.
    pub fn preload(self: &Arc<Self>) {
        let state = self.clone();
        std::thread::Builder::new()
            .name("skill-preload".into())
            .spawn(move || {
                let catalog = state.catalog();
                let mut seen = std::collections::HashSet::new();
                for route in catalog.routes() {
                    if seen.insert(route.skill.manifest.component.sha256.clone())
                        && let Err(e) = state.executor.preload(route)
                    {
                        tracing::warn!(skill = %route.skill.manifest.name, "cannot load: {e}");
                    }
                }
                state.ready.store(true, Ordering::Release);
            })
            .expect("spawn the preload thread");
    }

    /// Reads `$SKILL_HOME` again: new or removed skills and instances, changed config.
    pub fn reload(&self) {
        let catalog = match Catalog::load(&self.home, &self.selection, false) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("keeping the previous tool list: {e}");
                return;
            }
        };
        let installed: Vec<String> = catalog
            .skills
            .iter()
            .map(|s| s.manifest.component.sha256.clone())
            .collect();
        self.executor.invalidate(&installed);
        let changed = self.catalog().fingerprint() != catalog.fingerprint();
        *self.catalog.write().expect("catalog lock") = Arc::new(catalog);
        if changed {
            tracing::info!("installed tools changed; notifying clients");
            self.tools_changed.send_modify(|n| *n += 1);
        }
    }

    /// Watches what the catalog and the prepared calls are made of, until the process ends:
    /// the skill and instance directories (new or removed entries), each skill's `current`,
    /// and each instance's config, secrets and grants. Never an instance's `data/`, where
    /// guests write: those writes must neither cost a watch nor reload anything.
    pub fn watch_home(self: &Arc<Self>) -> Result<()> {
        for dir in [self.home.skills_dir(), self.home.instances_dir()] {
            std::fs::create_dir_all(&dir)
                .map_err(|e| skill_engine::Error::io("create", &dir, e))?;
        }
        let state = self.clone();
        let (tx, rx) = std::sync::mpsc::channel::<DebounceEventResult>();
        let mut debouncer = new_debouncer(RELOAD_DEBOUNCE, None, tx)
            .map_err(|e| skill_engine::Error::internal(format!("cannot watch $SKILL_HOME: {e}")))?;
        let mut watched = std::collections::BTreeSet::new();
        update_watches(&self.home, &mut debouncer, &mut watched);
        std::thread::Builder::new()
            .name("skill-home-watch".into())
            .spawn(move || {
                for events in rx {
                    let relevant = match events {
                        Ok(events) => events.iter().any(|e| {
                            is_mutation(&e.event.kind)
                                && e.event.paths.iter().any(|p| is_watched_file(p))
                        }),
                        Err(_) => true,
                    };
                    if relevant {
                        update_watches(&state.home, &mut debouncer, &mut watched);
                        state.reload();
                    }
                }
            })
            .expect("spawn the watcher thread");
        Ok(())
    }
}

/// The files whose changes matter to a server (and the directories that hold them: a new or
/// removed skill or instance shows as an entry of its parent).
fn is_watched_file(path: &std::path::Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    match name {
        "current" | "config.json" | "secrets.enc" | "grants.json" => true,
        // A skill or instance directory itself, created or removed.
        _ => !name.starts_with('.') && path.extension().is_none() && name != "data",
    }
}

/// Watches, without recursion, `skills/`, `skills/<name>/`, `instances/`,
/// `instances/<skill>/` and `instances/<skill>/<instance>/`: a few watches per instance,
/// however many directories guests create.
fn update_watches(
    home: &SkillHome,
    debouncer: &mut notify_debouncer_full::Debouncer<
        notify_debouncer_full::notify::RecommendedWatcher,
        notify_debouncer_full::RecommendedCache,
    >,
    watched: &mut std::collections::BTreeSet<std::path::PathBuf>,
) {
    let subdirs = |dir: &std::path::Path| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect()
    };
    let mut wanted = std::collections::BTreeSet::new();
    let skills = home.skills_dir();
    wanted.extend(subdirs(&skills));
    wanted.insert(skills);
    let instances = home.instances_dir();
    for skill in subdirs(&instances) {
        wanted.extend(subdirs(&skill));
        wanted.insert(skill);
    }
    wanted.insert(instances);
    for gone in watched.difference(&wanted).cloned().collect::<Vec<_>>() {
        let _ = debouncer.unwatch(&gone);
        watched.remove(&gone);
    }
    for new in wanted.difference(watched).cloned().collect::<Vec<_>>() {
        if debouncer.watch(&new, RecursiveMode::NonRecursive).is_ok() {
            watched.insert(new);
        }
    }
}

/// Logs go to stderr only (stdout is the MCP channel in stdio mode). `-v` shows each request.
pub fn init_logging(verbose: bool, json: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if verbose {
        "info,skill_serve=debug,tower_http=debug"
    } else {
        "warn,skill_serve=info"
    };
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let filter = EnvFilter::try_from_env("SKILL_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Whether a file-system event changes something (content, existence), not only its
/// metadata. `skill watch` reads sources by the same rule.
pub fn is_mutation(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) => true,
        EventKind::Remove(RemoveKind::Any | RemoveKind::File | RemoveKind::Folder) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify_debouncer_full::notify::event::{AccessKind, CreateKind, DataChange, MetadataKind};

    #[test]
    fn only_changes_of_content_or_existence_count() {
        assert!(is_mutation(&EventKind::Create(CreateKind::File)));
        assert!(is_mutation(&EventKind::Modify(ModifyKind::Data(
            DataChange::Content
        ))));
        assert!(!is_mutation(&EventKind::Modify(ModifyKind::Metadata(
            MetadataKind::Any
        ))));
        assert!(!is_mutation(&EventKind::Access(AccessKind::Any)));
    }
}

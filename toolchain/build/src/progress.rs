//! How build work tells its caller what it is doing. The CLI shows stages as spinners and
//! status lines (cargo style); a caller that wants nothing shown passes [`Silent`].

use std::time::{Duration, Instant};

pub trait Progress: Sync {
    /// Starts a long step, e.g. `Compiling` `hello 0.1.0 (rust)`. Finish it with
    /// [`Stage::done`] or [`Stage::fail`].
    fn stage(&self, verb: &str, message: &str) -> Box<dyn Stage>;
    /// A one-line result, e.g. `Finished` `hello in 3.2s`.
    fn status(&self, verb: &str, message: &str);
    /// Something the user should know; the work goes on.
    fn warn(&self, message: &str);
    /// Shown only to a user who asked for more (`-v`).
    fn detail(&self, message: &str);
}

pub trait Stage: Send {
    /// What the step is doing right now (a sub-step, the crate being compiled).
    fn set_detail(&self, detail: &str);
    /// A handle another thread can use to set the detail (e.g. a compiler output reader).
    fn detail_handle(&self) -> Box<dyn Fn(&str) + Send + 'static>;
    /// The step succeeded; how long it took.
    fn done(self: Box<Self>) -> Duration;
    /// The step failed (the error says why).
    fn fail(self: Box<Self>);
}

/// Shows nothing.
pub struct Silent;

struct SilentStage(Instant);

impl Progress for Silent {
    fn stage(&self, _verb: &str, _message: &str) -> Box<dyn Stage> {
        Box::new(SilentStage(Instant::now()))
    }
    fn status(&self, _verb: &str, _message: &str) {}
    fn warn(&self, _message: &str) {}
    fn detail(&self, _message: &str) {}
}

impl Stage for SilentStage {
    fn set_detail(&self, _detail: &str) {}
    fn detail_handle(&self) -> Box<dyn Fn(&str) + Send + 'static> {
        Box::new(|_| {})
    }
    fn done(self: Box<Self>) -> Duration {
        self.0.elapsed()
    }
    fn fail(self: Box<Self>) {}
}

/// Bytes as `63.3 KB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

//! The sandbox: what a guest can see, and what happens when it exceeds a limit.

use std::time::{Duration, Instant};

use crate::{Env, misbehave};

fn installed_env() -> Env {
    let env = Env::new();
    env.skill(&["install", misbehave().to_str().unwrap()]).ok();
    env
}

#[test]
fn the_initializer_ran_once_at_build_time_with_a_stopped_clock() {
    let env = installed_env();
    // `init` never runs at call time: the count comes from the Wizer snapshot, and the clock
    // it read was the build's fixed one (which keeps the snapshot reproducible).
    assert_eq!(
        env.skill(&["run", "misbehave:preinitialized"]).ok(),
        "init runs=1 clock=0\n"
    );
}

#[test]
fn a_guest_sees_nothing_it_was_not_given() {
    let env = installed_env();
    let peek = env.skill(&["run", "misbehave:peek"]);
    // No files, no environment, no network, no config; its stdout/stderr are captured.
    assert_eq!(
        peek.ok(),
        "file=false dir=false env=0 net=false config=None\n"
    );
    assert!(
        !peek.stderr.contains("this line goes"),
        "guest output leaked:\n{}",
        peek.stderr
    );
    // -v shows what the guest wrote, on stderr only.
    let verbose = env.skill(&["-v", "run", "misbehave:peek"]);
    assert_eq!(
        verbose.ok(),
        "file=false dir=false env=0 net=false config=None\n"
    );
    assert!(
        verbose
            .stderr
            .contains("this line goes to the guest's stdout"),
        "{}",
        verbose.stderr
    );
    assert!(
        verbose
            .stderr
            .contains("this line goes to the guest's stderr"),
        "{}",
        verbose.stderr
    );
}

#[test]
fn runaway_cpu_is_stopped_by_the_deadline() {
    let env = installed_env();
    let started = Instant::now();
    let spin = env.skill(&["run", "--timeout", "0.5", "misbehave:spin"]);
    assert!(
        spin.fails().contains("tool `spin` timed out after"),
        "{}",
        spin.stderr
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn memory_and_output_are_capped() {
    let env = installed_env();
    assert_eq!(
        env.skill(&["run", "misbehave:hog", "16"]).ok(),
        (16u64 << 20).to_string() + "\n"
    );
    let hog = env.skill(&["run", "misbehave:hog", "512"]);
    assert!(
        hog.fails().contains("exceeded its memory limit of 256 MiB"),
        "{}",
        hog.stderr
    );
    assert_eq!(
        env.skill(&["run", "misbehave:chatter", "1000"]).ok(),
        "done\n"
    );
    let chatter = env.skill(&["run", "misbehave:chatter", "2000000"]);
    assert!(
        chatter.fails().contains("wrote more than 1024 KiB"),
        "{}",
        chatter.stderr
    );
}

#[test]
fn a_panic_is_reported_with_its_message() {
    let env = installed_env();
    let crash = env.skill(&["run", "misbehave:crash", "the sky fell"]);
    let stderr = crash.fails();
    assert!(stderr.contains("tool `crash` crashed"), "{stderr}");
    assert!(stderr.contains("the sky fell"), "{stderr}");
    assert_eq!(crash.stdout, "");
}

#[test]
fn typed_tool_errors_logs_and_progress() {
    let env = installed_env();
    let failed = env.skill(&["run", "misbehave:refuse", "failed"]);
    assert_eq!(failed.code, 1);
    assert!(
        failed
            .stderr
            .contains("error: misbehave:refuse failed: it went wrong"),
        "{}",
        failed.stderr
    );
    let unconfigured = env.skill(&["run", "misbehave:refuse", "unconfigured"]);
    assert!(
        unconfigured
            .fails()
            .contains("not configured: token is not set")
    );
    assert!(
        unconfigured
            .stderr
            .contains("hint: configure the instance `misbehave@default`")
    );
    let choice = env.skill(&["run", "misbehave:refuse", "sideways"]);
    assert!(
        choice
            .fails()
            .contains("argument `how` must be one of failed, invalid, unconfigured")
    );
    let bad_data = env.skill(&["run", "misbehave:bad-data"]);
    assert!(
        bad_data
            .fails()
            .contains("returned `data` that is not JSON"),
        "{}",
        bad_data.stderr
    );

    let report = env.skill(&["run", "misbehave:report"]);
    assert_eq!(report.ok(), "done\n");
    assert!(
        report.stderr.contains("[info] starting"),
        "{}",
        report.stderr
    );
    assert!(
        report.stderr.contains("[ 50%] halfway"),
        "{}",
        report.stderr
    );
    assert!(
        !report.stderr.contains("a detail"),
        "debug logs only with -v:\n{}",
        report.stderr
    );
    assert!(
        env.skill(&["-v", "run", "misbehave:report"])
            .stderr
            .contains("[debug] a detail")
    );
}

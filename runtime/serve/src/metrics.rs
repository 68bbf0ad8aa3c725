//! Prometheus counters and a duration histogram per skill and tool, rendered as the text
//! exposition format for `GET /metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the duration histogram's buckets.
const BUCKETS: [f64; 14] = [
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
];

#[derive(Default)]
struct Series {
    calls: u64,
    errors: u64,
    /// Count per bucket (not cumulative; summed when rendered).
    buckets: [u64; BUCKETS.len()],
    sum_seconds: f64,
}

#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String), Series>>,
}

impl Metrics {
    /// One finished call. `ok` is false for tool errors and host failures alike.
    pub fn record(&self, skill: &str, tool: &str, duration: Duration, ok: bool) {
        let seconds = duration.as_secs_f64();
        let mut series = self.series.lock().expect("metrics lock");
        let s = match series.get_mut(&(skill.to_string(), tool.to_string())) {
            Some(s) => s,
            None => series
                .entry((skill.to_string(), tool.to_string()))
                .or_default(),
        };
        s.calls += 1;
        if !ok {
            s.errors += 1;
        }
        s.sum_seconds += seconds;
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            s.buckets[i] += 1;
        }
    }

    pub fn render(&self) -> String {
        let series = self.series.lock().expect("metrics lock");
        let mut out = String::new();
        out.push_str("# HELP skill_executions_total Tool calls finished, by skill and tool.\n");
        out.push_str("# TYPE skill_executions_total counter\n");
        for ((skill, tool), s) in series.iter() {
            let _ = writeln!(
                out,
                "skill_executions_total{{{}}} {}",
                labels(skill, tool),
                s.calls
            );
        }
        out.push_str("# HELP skill_execution_errors_total Tool calls that failed (tool errors, traps, limits).\n");
        out.push_str("# TYPE skill_execution_errors_total counter\n");
        for ((skill, tool), s) in series.iter() {
            let _ = writeln!(
                out,
                "skill_execution_errors_total{{{}}} {}",
                labels(skill, tool),
                s.errors
            );
        }
        out.push_str(
            "# HELP skill_execution_duration_seconds Time from instantiation to result.\n",
        );
        out.push_str("# TYPE skill_execution_duration_seconds histogram\n");
        for ((skill, tool), s) in series.iter() {
            let l = labels(skill, tool);
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(s.buckets.iter()) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "skill_execution_duration_seconds_bucket{{{l},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "skill_execution_duration_seconds_bucket{{{l},le=\"+Inf\"}} {}",
                s.calls
            );
            let _ = writeln!(
                out,
                "skill_execution_duration_seconds_sum{{{l}}} {}",
                s.sum_seconds
            );
            let _ = writeln!(
                out,
                "skill_execution_duration_seconds_count{{{l}}} {}",
                s.calls
            );
        }
        out
    }
}

fn labels(skill: &str, tool: &str) -> String {
    format!("skill=\"{}\",tool=\"{}\"", escape(skill), escape(tool))
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.record("hello", "greet", Duration::from_micros(300), true);
        m.record("hello", "greet", Duration::from_millis(20), false);
        let text = m.render();
        assert!(
            text.contains("skill_executions_total{skill=\"hello\",tool=\"greet\"} 2"),
            "{text}"
        );
        assert!(text.contains("skill_execution_errors_total{skill=\"hello\",tool=\"greet\"} 1"));
        assert!(text.contains("le=\"0.0005\"} 1\n"), "{text}");
        assert!(text.contains("le=\"0.025\"} 2\n"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 2\n"));
    }
}

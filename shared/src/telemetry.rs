//! Logs and metrics. Logs: `tracing`, as JSON when Lambda's `AWS_LAMBDA_LOG_FORMAT=JSON` asks for
//! it. Metrics: CloudWatch Embedded Metric Format lines on stdout, which CloudWatch Logs turns
//! into metrics without any API call.

use serde_json::{Map, Value, json};
use tracing_subscriber::{
    filter::{LevelFilter, Targets},
    layer::SubscriberExt,
    util::SubscriberInitExt,
};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "bilheteria";

/// Installs the subscriber once per process, at init: the level from Lambda's
/// `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG` (a level or `target=level` directives), else INFO; JSON
/// lines when `AWS_LAMBDA_LOG_FORMAT=JSON`, text otherwise (Lambda adds the time).
pub fn init() {
    let filter = log_filter(
        std::env::var("AWS_LAMBDA_LOG_LEVEL")
            .or_else(|_| std::env::var("RUST_LOG"))
            .ok()
            .as_deref(),
    );
    let logs = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_writer(std::io::stdout);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json {
        logs.json().finish().with(filter).init();
    } else {
        logs.finish().with(filter).init();
    }
}

/// What `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` asks for. Lambda's FATAL is tracing's ERROR; anything
/// unreadable falls back to INFO.
fn log_filter(setting: Option<&str>) -> Targets {
    let setting = setting.map(str::trim).filter(|s| !s.is_empty());
    match setting {
        None => Targets::new().with_default(LevelFilter::INFO),
        Some(s) if s.eq_ignore_ascii_case("fatal") => {
            Targets::new().with_default(LevelFilter::ERROR)
        }
        Some(s) => s
            .parse::<Targets>()
            .unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO)),
    }
}

/// Units CloudWatch knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One EMF line: the metric under the function alone and under the function with `dimensions`.
pub fn emf_line(
    function: &str,
    name: &str,
    value: f64,
    unit: Unit,
    dimensions: &[(&str, &str)],
    timestamp_ms: i64,
) -> String {
    let mut sets = vec![vec!["function".to_owned()]];
    if !dimensions.is_empty() {
        sets.push(
            std::iter::once("function".to_owned())
                .chain(dimensions.iter().map(|(k, _)| (*k).to_owned()))
                .collect(),
        );
    }
    let mut line = Map::new();
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": sets,
                "Metrics": [{"Name": name, "Unit": unit.as_str()}],
            }],
        }),
    );
    line.insert("function".into(), Value::from(function));
    for (k, v) in dimensions {
        line.insert((*k).into(), Value::from(*v));
    }
    line.insert(name.into(), json!(value));
    Value::Object(line).to_string()
}

/// Writes a metric for this function (`AWS_LAMBDA_FUNCTION_NAME`).
pub fn metric(name: &str, value: f64, unit: Unit, dimensions: &[(&str, &str)]) {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into());
    println!(
        "{}",
        emf_line(
            &function,
            name,
            value,
            unit,
            dimensions,
            chrono::Utc::now().timestamp_millis()
        )
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn the_log_level_follows_lambdas_setting_or_rust_log() {
        let on = |setting: Option<&str>, target: &str, level: Level| {
            log_filter(setting).would_enable(target, &level)
        };
        assert!(on(None, "bilheteria", Level::INFO));
        assert!(!on(None, "bilheteria", Level::DEBUG));
        assert!(on(Some("DEBUG"), "bilheteria", Level::DEBUG));
        assert!(!on(Some("WARN"), "bilheteria", Level::INFO));
        assert!(on(Some("FATAL"), "bilheteria", Level::ERROR));
        assert!(!on(Some("FATAL"), "bilheteria", Level::WARN));
        assert!(on(
            Some("warn,bilheteria=trace"),
            "bilheteria::store",
            Level::TRACE
        ));
        assert!(!on(Some("warn,bilheteria=trace"), "hyper", Level::INFO));
        assert!(on(Some("not a level=="), "bilheteria", Level::INFO));
    }

    #[test]
    fn an_emf_line_declares_its_metric_and_dimensions() {
        let line = emf_line(
            "hold-seats",
            "HoldsCreated",
            1.0,
            Unit::Count,
            &[("session", "S1")],
            1_700_000_000_000,
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        let spec = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(spec["Namespace"], "bilheteria");
        assert_eq!(
            spec["Dimensions"],
            json!([["function"], ["function", "session"]])
        );
        assert_eq!(
            spec["Metrics"],
            json!([{"Name": "HoldsCreated", "Unit": "Count"}])
        );
        assert_eq!(
            (
                v["function"].as_str(),
                v["session"].as_str(),
                v["HoldsCreated"].as_f64()
            ),
            (Some("hold-seats"), Some("S1"), Some(1.0))
        );
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000i64);
    }
}

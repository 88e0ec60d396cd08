//! Logs and metrics. Logs: `tracing`, as JSON when Lambda's `AWS_LAMBDA_LOG_FORMAT=JSON` asks for
//! it. Metrics: CloudWatch Embedded Metric Format lines on stdout, which CloudWatch Logs turns
//! into metrics without any API call.

use serde_json::{Map, Value, json};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "bilheteria";

/// Installs the subscriber once per process, at init.
pub fn init() {
    lambda_http::tracing::init_default_subscriber();
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

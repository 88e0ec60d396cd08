//! Schedules: each `Schedule`/`ScheduleV2` event fires its function with a real Scheduled Event
//! at its rate; a tick fires it now.

use std::time::Duration;

use serde_json::{Value, json};

use crate::template::{LOCAL_ACCOUNT, LOCAL_REGION, LOCAL_STACK};

/// The period of a `rate(N unit)` expression; `None` for `cron(...)` and anything else.
pub fn rate(expression: &str) -> Option<Duration> {
    let inner = expression.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = inner.trim().split_once(' ')?;
    let n: u64 = n.parse().ok().filter(|n| *n > 0)?;
    let seconds = match unit.trim() {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3_600,
        "day" | "days" => 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(n * seconds))
}

/// The event EventBridge Scheduler delivers for `function`'s schedule `name`.
pub fn scheduled_event(function: &str, name: &str) -> Value {
    json!({
        "version": "0",
        "id": crate::lambda::request_id(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT,
        "time": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": LOCAL_REGION,
        "resources": [format!("arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT}:rule/{LOCAL_STACK}-{function}-{name}")],
        "detail": {}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_read_and_crons_are_not() {
        assert_eq!(rate("rate(1 minute)"), Some(Duration::from_secs(60)));
        assert_eq!(rate("rate(5 minutes)"), Some(Duration::from_secs(300)));
        assert_eq!(rate("rate(2 hours)"), Some(Duration::from_secs(7_200)));
        assert_eq!(rate("rate(0 minutes)"), None);
        assert_eq!(rate("cron(0 12 * * ? *)"), None);
    }

    #[test]
    fn a_scheduled_event_looks_like_eventbridges() {
        let event = scheduled_event("ExpireHoldsFunction", "Sweep");
        assert_eq!(event["detail-type"], "Scheduled Event");
        assert_eq!(event["source"], "aws.events");
        assert_eq!(event["id"].as_str().unwrap().len(), 36);
        assert!(
            event["resources"][0]
                .as_str()
                .unwrap()
                .ends_with("rule/bilheteria-ExpireHoldsFunction-Sweep")
        );
    }
}

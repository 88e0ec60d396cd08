//! CPU time spent by every part of the local stack, read from `/proc`: this process's threads by
//! the runtime they belong to (the DynamoDB emulator's are named `dynamodb`, the load
//! generator's `load`; the rest serve the API gateway, the Lambda Runtime API and the event
//! sources), and every process this one started (each function by its binary, ministack).
//! A process that ends between two readings takes its time with it: functions stay warm through
//! a scenario, so this misses only the cold starts' processes retired meanwhile.

use std::collections::BTreeMap;

/// CPU ticks by part and by process or thread.
#[derive(Clone, Debug, Default)]
pub struct Reading(BTreeMap<(String, u32), u64>);

/// The part of the stack a thread of this process belongs to, by its name.
fn thread_part(name: &str) -> String {
    if name.starts_with("dynamodb") {
        "DynamoDB emulator (dynoxide)".into()
    } else if name.starts_with("load") {
        "load generator".into()
    } else {
        "gateway, Runtime API, event sources (local)".into()
    }
}

/// The part of the stack a child process belongs to, by its command name.
fn process_part(name: &str) -> String {
    if name.starts_with("python") || name.starts_with("ministack") {
        "SQS, EventBridge, Secrets Manager (ministack)".into()
    } else {
        format!("function {name}")
    }
}

/// `(name, parent, user + system ticks)` from a `/proc/…/stat` line.
fn parse(stat: &str) -> Option<(String, u32, u64)> {
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let name = stat[open + 1..close].to_owned();
    let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
    // After the name: state (0), ppid (1) … utime (11), stime (12).
    let parent = fields.get(1)?.parse().ok()?;
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((name, parent, ticks))
}

fn stat(path: impl AsRef<std::path::Path>) -> Option<(String, u32, u64)> {
    parse(&std::fs::read_to_string(path).ok()?)
}

fn numbered(dir: &str) -> Vec<u32> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// What every part has spent so far.
pub fn read() -> Reading {
    let me = std::process::id();
    let mut reading = BTreeMap::new();
    for tid in numbered("/proc/self/task") {
        if let Some((name, _, ticks)) = stat(format!("/proc/self/task/{tid}/stat")) {
            reading.insert((thread_part(&name), tid), ticks);
        }
    }
    let processes: Vec<(u32, String, u32, u64)> = numbered("/proc")
        .into_iter()
        .filter_map(|pid| {
            let (name, parent, ticks) = stat(format!("/proc/{pid}/stat"))?;
            Some((pid, name, parent, ticks))
        })
        .collect();
    let mut ours = vec![me];
    while let Some(parent) = ours.pop() {
        for (pid, name, _, ticks) in processes.iter().filter(|p| p.2 == parent) {
            reading.insert((process_part(name), *pid), *ticks);
            ours.push(*pid);
        }
    }
    Reading(reading)
}

impl Reading {
    /// Milliseconds of CPU each part spent from `before` to this reading.
    pub fn since(&self, before: &Reading) -> BTreeMap<String, f64> {
        // SAFETY: sysconf only reads a configuration value.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        let mut spent: BTreeMap<String, f64> = BTreeMap::new();
        for ((part, id), ticks) in &self.0 {
            let earlier = before.0.get(&(part.clone(), *id)).copied().unwrap_or(0);
            *spent.entry(part.clone()).or_default() +=
                ticks.saturating_sub(earlier) as f64 * 1000.0 / per_second;
        }
        spent.retain(|_, ms| *ms > 0.0);
        spent
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_stat_line_gives_name_parent_and_ticks() {
        let line = "4242 (hold seats) S 17 4242 17 0 -1 4194560 900 0 0 0 120 35 0 0 20 0 3 0";
        assert_eq!(super::parse(line), Some(("hold seats".into(), 17, 155)));
    }
}

//! SQS, EventBridge and Secrets Manager on loopback: ministack (from the project's `.venv`) as a child process.

use std::{
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::process::{Child, Command};

#[derive(Debug, thiserror::Error)]
pub enum MinistackError {
    #[error(
        "ministack is not installed at {0}: run `make dev` (it installs .venv from requirements.txt)"
    )]
    Missing(PathBuf),
    #[error("cannot start ministack: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("port {0} is taken: choose another with --queues-port")]
    PortTaken(u16),
    #[error("ministack did not become ready on {0} within 30 s")]
    NotReady(String),
}

pub struct Ministack {
    endpoint: String,
    child: Option<Child>,
}

impl Ministack {
    /// Starts ministack from `venv` on `host:port` (0 picks a free port) serving SQS, EventBridge and Secrets Manager.
    /// With a `state` folder, queues (with their messages) and buses are saved there when it stops
    /// and loaded when it starts.
    pub async fn start(
        venv: &Path,
        host: IpAddr,
        port: u16,
        state: Option<&Path>,
    ) -> Result<Self, MinistackError> {
        let binary = venv.join("bin").join("ministack");
        if !binary.is_file() {
            return Err(MinistackError::Missing(binary));
        }
        // A free port can be taken between the check and ministack's bind: then try another.
        for _ in 0..3 {
            let chosen = if port == 0 { free_port(host)? } else { port };
            let mut command = Command::new(&binary);
            if let Some(state) = state {
                command.env("PERSIST_STATE", "1").env("STATE_DIR", state);
            }
            let mut child = command
                .env("BIND_HOST", host.to_string())
                .env("GATEWAY_PORT", chosen.to_string())
                .env("SERVICES", "sqs,events,secretsmanager")
                .env("LOG_LEVEL", "WARNING")
                .env("IOT_MTLS_ENABLED", "0")
                .env("SFTP_ENABLED", "0")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()?;
            let endpoint = format!("http://{}", SocketAddr::new(host, chosen));
            let health = format!("{endpoint}/_ministack/health");
            let client = reqwest::Client::new();
            let started = Instant::now();
            loop {
                if child.try_wait()?.is_some() {
                    // ministack exits at once when its port is in use.
                    if port != 0 {
                        return Err(MinistackError::PortTaken(port));
                    }
                    break;
                }
                if client
                    .get(&health)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
                {
                    return Ok(Self {
                        endpoint,
                        child: Some(child),
                    });
                }
                if started.elapsed() > Duration::from_secs(30) {
                    let _ = child.kill().await;
                    return Err(MinistackError::NotReady(endpoint));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Err(MinistackError::PortTaken(port))
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn port(&self) -> u16 {
        self.endpoint
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    /// Stops ministack with SIGTERM, as Ctrl-C would.
    pub async fn stop(mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                // SAFETY: signals the child process this stack started.
                unsafe {
                    libc::kill(pid as i32, libc::SIGTERM);
                }
            }
            if tokio::time::timeout(Duration::from_secs(5), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
    }
}

/// A port free on `host` right now.
pub fn free_port(host: IpAddr) -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(SocketAddr::new(host, 0))?
        .local_addr()?
        .port())
}

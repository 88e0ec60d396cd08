//! Logs: `tracing`, as JSON when Lambda's `AWS_LAMBDA_LOG_FORMAT=JSON` asks for it.

/// Installs the subscriber once per process, at init.
pub fn init() {
    lambda_http::tracing::init_default_subscriber();
}

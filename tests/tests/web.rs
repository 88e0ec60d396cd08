//! The web app in a real browser against the real local stack: one stack, with the demo catalog
//! `make dev` starts with, shared by every browser test under `web/tests/` (`node --test`,
//! playwright-core driving Debian's Chromium). `SCREENSHOTS=<dir>` keeps a picture of each page.

use std::process::Stdio;

use local::{
    seed::seed,
    stack::{Options, Stack},
    template::repository_root,
};

#[tokio::test]
async fn the_storefront_works_in_a_browser() {
    let stack = Stack::start(Options {
        web_port: Some(0),
        ..Options::default()
    })
    .await
    .expect("the local stack starts (`make web` builds the app)");
    seed(stack.api_url(), &stack.token("organiser", true))
        .await
        .expect("the demo catalog");
    let web = repository_root().join("web");
    let mut files: Vec<String> = std::fs::read_dir(web.join("tests"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".test.mjs"))
        .map(|n| format!("tests/{n}"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "browser tests under web/tests/");
    let status = tokio::process::Command::new("node")
        .arg("--test")
        .arg("--test-concurrency=1")
        .args(&files)
        .current_dir(&web)
        .env("WEB_URL", stack.web_url().unwrap())
        .env("API_URL", stack.api_url())
        .env("CUSTOMER_TOKEN", stack.token("fan", false))
        .env("ADMIN_TOKEN", stack.token("organiser", true))
        .env("OTHER_CUSTOMER_TOKEN", stack.token("door-fan", false))
        .env(
            "WEBHOOK_SECRET",
            stack.secret("PaymentWebhookSecret").unwrap(),
        )
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status()
        .await
        .expect("node runs (Node.js 20.19 or later)");
    assert!(status.success(), "the browser tests failed: {status}");
    stack.stop().await;
}

//! The web app on its own origin, as S3 + CloudFront serve it in AWS: the files `vite build`
//! wrote to `web/dist`, `index.html` for any other path (the app routes in the browser), hashed
//! assets cached for a year, and `/config.json` made here so that one build finds this stack.

use std::{net::SocketAddr, path::Path};

use axum::{
    Json, Router,
    http::{HeaderValue, header},
    routing::get,
};
use serde_json::Value;
use tokio::sync::watch;
use tower_http::{
    services::{ServeDir, ServeFile},
    set_header::SetResponseHeaderLayer,
};

/// The app's runtime configuration for a stack whose API is at `api_url` and whose OpenID
/// provider is `issuer`.
pub fn config(api_url: &str, issuer: &str) -> Value {
    serde_json::json!({
        "api_url": api_url,
        "issuer": issuer,
        "client_id": crate::issuer::AUDIENCE,
        // The simulated acquirer's test cards are shown on the checkout page.
        "test_cards": true,
    })
}

/// Serves `dist` on `listener` until `stop` turns true.
pub fn serve(
    listener: tokio::net::TcpListener,
    dist: &Path,
    config: Value,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let assets = Router::new()
        .fallback_service(ServeDir::new(dist.join("assets")))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ));
    let pages = ServeDir::new(dist).fallback(ServeFile::new(dist.join("index.html")));
    let app = Router::new()
        .route(
            "/config.json",
            get(move || {
                let config = config.clone();
                async move {
                    (
                        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
                        Json(config),
                    )
                }
            }),
        )
        .nest_service("/assets", assets)
        .fallback_service(Router::new().fallback_service(pages).layer(
            SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            ),
        ));
    tokio::spawn(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await;
        if let Err(e) = served {
            eprintln!("[web] stopped: {e}");
        }
    })
}

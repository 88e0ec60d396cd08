//! The demo catalog `make dev` starts with: one event, two sessions, each with a numbered sector
//! (20 rows × 30 seats) and a general-admission sector (2,000 places), and popcorn, chocolate and
//! soda. Created through the API itself, as an organiser would.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
#[error("seeding failed at {step}: {reason}")]
pub struct SeedError {
    step: String,
    reason: String,
}

async fn post(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: Value,
) -> Result<Value, SeedError> {
    let fail = |reason: String| SeedError {
        step: url.clone(),
        reason,
    };
    let resp = client
        .post(&url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    let status = resp.status();
    let body: Value = resp.json().await.map_err(|e| fail(e.to_string()))?;
    if !status.is_success() {
        return Err(fail(format!("{status}: {body}")));
    }
    Ok(body)
}

/// Creates the demo catalog unless the API already lists an event; returns the event's id.
pub async fn seed(api: &str, admin_token: &str) -> Result<Option<String>, SeedError> {
    let client = reqwest::Client::new();
    let existing: Value = client
        .get(format!("{api}/events?limit=1"))
        .send()
        .await
        .map_err(|e| SeedError {
            step: "GET /events".into(),
            reason: e.to_string(),
        })?
        .json()
        .await
        .map_err(|e| SeedError {
            step: "GET /events".into(),
            reason: e.to_string(),
        })?;
    if existing["items"]
        .as_array()
        .is_some_and(|items| !items.is_empty())
    {
        return Ok(None);
    }
    let event = post(
        &client,
        format!("{api}/events"),
        admin_token,
        json!({
            "name": "Noite de Estreia",
            "venue": "Teatro Municipal, São Paulo",
            "category": "show",
            "description": "A demo event: a numbered plateia and a standing pista."
        }),
    )
    .await?;
    let event_id = event["id"].as_str().unwrap_or_default().to_owned();
    let now = Utc::now();
    for days in [14, 15] {
        let starts_at = now + Duration::days(days);
        post(
            &client,
            format!("{api}/events/{event_id}/sessions"),
            admin_token,
            json!({
                "starts_at": starts_at.to_rfc3339(),
                "sale_starts_at": (now - Duration::hours(1)).to_rfc3339(),
                "sale_ends_at": (starts_at - Duration::hours(2)).to_rfc3339(),
                "max_tickets_per_customer": 6,
                "sectors": [
                    {"code": "plateia", "name": "Plateia", "kind": "numbered", "rows": 20, "seats_per_row": 30,
                     "price": {"cents": 12000, "currency": "BRL"}},
                    {"code": "pista", "name": "Pista", "kind": "general_admission", "capacity": 2000,
                     "price": {"cents": 8000, "currency": "BRL"}}
                ]
            }),
        )
        .await?;
    }
    for (name, category, cents, stock) in [
        ("Pipoca", "food", 2800, 500),
        ("Chocolate", "food", 1200, 300),
        ("Refrigerante", "drink", 900, 800),
    ] {
        let body = json!({"name": name, "category": category, "price": {"cents": cents, "currency": "BRL"}, "stock": stock});
        post(
            &client,
            format!("{api}/events/{event_id}/products"),
            admin_token,
            body,
        )
        .await?;
    }
    Ok(Some(event_id))
}

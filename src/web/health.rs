use actix_web::{HttpResponse, web};
use sea_orm::ConnectionTrait;
use serde_json::json;

use super::AppState;
use crate::background::health::State;

routes! {
    GET r"/healthz" => healthz,
    GET r"/readyz" => readyz,
}

/// For monitoring, no login: the database and this process's workers and scheduler (none when
/// it runs without them). 200 when all work; 503 with each part's state and reason when one
/// does not, so a check alerts while the workers retry instead of reading "ok".
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    report(&state).await
}

/// The health report (`/healthz`, and `/api/v1/health` for API callers).
pub async fn report(state: &AppState) -> HttpResponse {
    let database = database_answers(state).await;
    let parts = state.health.snapshot();
    let degraded = parts.values().any(|s| matches!(s, State::Degraded { .. }));
    let status = match (database, degraded) {
        (false, _) => "error",
        (true, true) => "degraded",
        (true, false) => "ok",
    };
    let body = json!({
        "status": status,
        "database": if database { "ok" } else { "unreachable" },
        "workers": parts,
    });
    if status == "ok" {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// For load balancers, no login: whether this process can serve pages (its database answers).
/// Workers that retry do not take a web node out of rotation.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if database_answers(&state).await {
        HttpResponse::Ok().json(json!({"ready": true}))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({"ready": false, "database": "unreachable"}))
    }
}

async fn database_answers(state: &AppState) -> bool {
    match state.db.execute_unprepared("SELECT 1").await {
        Ok(_) => true,
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            false
        }
    }
}

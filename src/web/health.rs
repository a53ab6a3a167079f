use actix_web::{HttpResponse, web};
use sea_orm::ConnectionTrait;

use super::AppState;

routes! {
    GET r"/healthz" => healthz,
}

/// For load balancers and monitoring: no login, checks that the database answers.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match state.db.execute_unprepared("SELECT 1").await {
        Ok(_) => HttpResponse::Ok().json(serde_json::json!({"status": "ok", "database": "ok"})),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({"status": "error", "database": "unreachable"}))
        }
    }
}

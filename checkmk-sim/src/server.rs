//! The HTTP layer: an actix-web server on a dedicated thread with its own actix system,
//! turning every request into an [`api::Req`](crate::api::Req).

use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use crate::api::{self, Reply};
use crate::state::State;

type Shared = Arc<Mutex<State>>;

/// Starts the server on `127.0.0.1:port`; returns its handle and the bound port.
pub(crate) async fn spawn(state: Shared, port: u16) -> std::io::Result<(ServerHandle, u16)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("checkmk-sim".into())
        .spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let data = web::Data::new(state);
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                        .default_service(web::to(dispatch))
                })
                .workers(1)
                .disable_signals()
                .shutdown_timeout(1)
                .listen(listener);
                match server {
                    Ok(server) => {
                        let server = server.run();
                        let _ = tx.send(Ok(server.handle()));
                        let _ = server.await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        })?;
    let handle = rx
        .await
        .map_err(|_| std::io::Error::other("the simulator's server thread ended early"))??;
    Ok((handle, port))
}

async fn dispatch(req: HttpRequest, body: web::Bytes, state: web::Data<Shared>) -> HttpResponse {
    let method = req.method().as_str().to_string();
    let path = req.path().to_string();
    let (site, latency) = {
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        let prefix = format!("/{}/check_mk/api/1.0", s.site);
        let logged = match path.strip_prefix(&prefix) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest.to_string(),
            _ => path.clone(),
        };
        s.requests.push((method.clone(), logged));
        (s.site.clone(), s.latency)
    };
    if !latency.is_zero() {
        actix_web::rt::time::sleep(latency).await;
    }
    let base_path = format!("/{site}/check_mk/api/1.0");
    let reply = match path.strip_prefix(&base_path) {
        Some(rest) if rest.starts_with('/') => {
            let header = |name: &str| {
                req.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let authorization = header("authorization");
            let if_match = header("if-match");
            let host = req.connection_info().host().to_string();
            let api_req = api::Req {
                method: &method,
                path: rest,
                query: req.query_string(),
                authorization: authorization.as_deref(),
                if_match: if_match.as_deref(),
                body: &body,
                base_url: format!("http://{host}{base_path}"),
                base_path: base_path.clone(),
            };
            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
            s.settle();
            api::handle(&mut s, &api_req)
        }
        _ => api::problem(
            404,
            "Not Found",
            "The requested URL was not found on the server. If you entered the URL manually \
             please check your spelling and try again.",
        ),
    };
    respond(reply)
}

fn respond(reply: Reply) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = HttpResponse::build(status);
    if let Some(etag) = &reply.etag {
        builder.insert_header(("ETag", format!("\"{etag}\"")));
    }
    if let Some(location) = &reply.location {
        builder.insert_header(("Location", location.as_str()));
    }
    match reply.body {
        Some(body) => {
            let content_type = if reply.problem {
                "application/problem+json"
            } else {
                "application/json"
            };
            builder.content_type(content_type).body(body.to_string())
        }
        None => builder.finish(),
    }
}

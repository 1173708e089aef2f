//! The WebSocket server: one tokio runtime on its own thread, one task per client.
//!
//! The handshake, sessions, batches and event fan-out live here; what a request *means* is the
//! [`Handler`]'s business. A misbehaving client only ever closes its own connection (with the
//! close code obs-websocket would use); nothing a client sends stops the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, broadcast, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::SEC_WEBSOCKET_PROTOCOL;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tracing::{debug, info, warn};

use crate::protocol::{
    self, OBS_STUDIO_VERSION, OBS_WEBSOCKET_VERSION, RPC_VERSION, SUBPROTOCOL_JSON,
    SUBPROTOCOL_MSGPACK, close, execution, op, status, subscription,
};

/// Where and how the server listens.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub addr: SocketAddr,
    /// `None`: no authentication (refused beyond loopback).
    pub password: Option<String>,
    /// Largest message (and frame) a client may send; a bigger one closes that client with
    /// 1009 (Message Too Big).
    pub max_message_size: usize,
    /// Connections beyond this are closed at once, so a flood cannot exhaust the machine.
    pub max_sessions: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 4455)),
            password: None,
            max_message_size: 16 << 20,
            max_sessions: 256,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{0}: obs-websocket listens beyond loopback only with a password (anyone on the network could run the show)"
    )]
    PasswordRequired(SocketAddr),
    #[error("obs-websocket cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("obs-websocket cannot start its runtime: {0}")]
    Runtime(std::io::Error),
    #[error("no random numbers for the authentication salt: {0}")]
    Random(getrandom::Error),
}

/// A failed request: an obs-websocket `RequestStatus` code and, where it helps, why.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestError {
    pub code: u16,
    pub comment: Option<String>,
}

impl RequestError {
    pub fn new(code: u16, comment: impl Into<String>) -> Self {
        RequestError {
            code,
            comment: Some(comment.into()),
        }
    }

    /// `MissingRequestField` for `field`.
    pub fn missing(field: &str) -> Self {
        RequestError::new(status::MISSING_REQUEST_FIELD, format!("Parameter: {field}"))
    }

    /// `InvalidRequestFieldType` for `field`.
    pub fn wrong_type(field: &str, expected: &str) -> Self {
        RequestError::new(
            status::INVALID_REQUEST_FIELD_TYPE,
            format!("Parameter: {field} must be {expected}"),
        )
    }

    /// `ResourceNotFound` with this comment.
    pub fn not_found(comment: impl Into<String>) -> Self {
        RequestError::new(status::RESOURCE_NOT_FOUND, comment)
    }
}

/// What a request answers: `responseData` (an object, or `Value::Null` for none).
pub type Reply = Result<Value, RequestError>;

/// The client a request comes from.
#[derive(Debug, Clone)]
pub struct Session {
    pub remote: SocketAddr,
    /// Messages received from and sent to this client so far (`GetStats` reports them).
    pub incoming: u64,
    pub outgoing: u64,
}

/// Answers requests. Runs on the server's threads (inside `block_in_place`), so it may take a
/// few milliseconds (encoding a screenshot) but must never wait on the app's frame: read
/// published state, send commands through a channel.
pub trait Handler: Send + Sync + 'static {
    /// Answers `request_type` with `data` (`requestData`, `Value::Null` when absent). An
    /// unknown type should answer [`status::UNKNOWN_REQUEST_TYPE`].
    fn request(&self, request_type: &str, data: &Value, session: &Session) -> Reply;
}

/// An event for subscribed clients.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `eventType`, e.g. `CurrentProgramSceneChanged`.
    pub event_type: String,
    /// The [`subscription`] bit a client needs to receive it (`eventIntent`).
    pub intent: u64,
    /// `eventData`, when the event has any.
    pub data: Option<Value>,
}

impl Event {
    pub fn new(event_type: impl Into<String>, intent: u64, data: Value) -> Self {
        Event {
            event_type: event_type.into(),
            intent,
            data: Some(data),
        }
    }

    fn to_message(&self) -> Value {
        let mut d = json!({ "eventType": self.event_type, "eventIntent": self.intent });
        if let Some(data) = &self.data {
            d["eventData"] = data.clone();
        }
        protocol::message(op::EVENT, d)
    }
}

/// What every session shares.
struct Shared {
    handler: Arc<dyn Handler>,
    /// `base64(sha256(password + salt))` and the salt, when a password is set.
    auth: Option<(String, String)>,
    events: broadcast::Sender<Arc<Event>>,
    config: ServerConfig,
    sessions: AtomicUsize,
}

/// A running server. Dropping it closes every client (1001 Going Away) and stops the thread.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Binds `config.addr` (port 0 picks a free one) and serves on a new thread.
    pub fn start(config: ServerConfig, handler: Arc<dyn Handler>) -> Result<Server, Error> {
        if !config.addr.ip().is_loopback() && config.password.as_deref().is_none_or(str::is_empty) {
            return Err(Error::PasswordRequired(config.addr));
        }
        let auth = match config.password.as_deref().filter(|p| !p.is_empty()) {
            Some(password) => {
                let salt = protocol::random_token().map_err(Error::Random)?;
                Some((protocol::secret(password, &salt), salt))
            }
            None => None,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("obs-websocket")
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        // Bound with std so `start` also works from inside another tokio runtime.
        let bind_error = |source| Error::Bind {
            addr: config.addr,
            source,
        };
        let listener = std::net::TcpListener::bind(config.addr).map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let listener = {
            let _entered = runtime.enter();
            TcpListener::from_std(listener).map_err(bind_error)?
        };
        let addr = listener.local_addr().map_err(bind_error)?;
        let (events, _) = broadcast::channel(1024);
        let shared = Arc::new(Shared {
            handler,
            auth,
            events,
            config,
            sessions: AtomicUsize::new(0),
        });
        let (stop, stopped) = watch::channel(false);
        let serve_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("obs-websocket".into())
            .spawn(move || {
                runtime.block_on(serve(listener, serve_shared, stopped));
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(Error::Runtime)?;
        info!("obs-websocket: listening on ws://{addr}");
        Ok(Server {
            addr,
            shared,
            stop,
            thread: Some(thread),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends `event` to every identified client subscribed to its intent.
    pub fn emit(&self, event: Event) {
        // No receivers is fine: nobody is connected.
        let _ = self.shared.events.send(Arc::new(event));
    }

    /// Clients connected right now (identified or not).
    pub fn sessions(&self) -> usize {
        self.shared.sessions.load(Ordering::Relaxed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(shared.config.max_sessions));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stopped.changed() => return,
        };
        let (stream, remote) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning.
                warn!("obs-websocket: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            warn!(
                "obs-websocket: {remote} refused: already {} clients",
                shared.config.max_sessions
            );
            continue;
        };
        let shared = shared.clone();
        let stopped = stopped.clone();
        tokio::spawn(async move {
            shared.sessions.fetch_add(1, Ordering::Relaxed);
            run_session(stream, remote, &shared, stopped).await;
            shared.sessions.fetch_sub(1, Ordering::Relaxed);
            drop(slot);
        });
    }
}

/// The subprotocol a client asked for, by our preference.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Encoding {
    /// `obswebsocket.json` or no subprotocol.
    Json(bool),
    MsgPack,
}

#[expect(
    clippy::result_large_err,
    reason = "the handshake callback's signature is tungstenite's"
)]
async fn run_session(
    stream: TcpStream,
    remote: SocketAddr,
    shared: &Shared,
    mut stopped: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let mut encoding = Encoding::Json(false);
    let pick = |request: &Request, mut response: Response| -> Result<Response, ErrorResponse> {
        let offered: Vec<String> = request
            .headers()
            .get_all(SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(',').map(|p| p.trim().to_owned()))
            .collect();
        let chosen = if offered.iter().any(|p| p == SUBPROTOCOL_JSON) {
            encoding = Encoding::Json(true);
            Some(SUBPROTOCOL_JSON)
        } else if offered.iter().any(|p| p == SUBPROTOCOL_MSGPACK) {
            encoding = Encoding::MsgPack;
            Some(SUBPROTOCOL_MSGPACK)
        } else {
            None
        };
        if let Some(p) = chosen {
            response
                .headers_mut()
                .insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(p));
        }
        Ok(response)
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(shared.config.max_message_size))
        .max_frame_size(Some(shared.config.max_message_size));
    let accepted = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::accept_hdr_async_with_config(stream, pick, Some(config)),
    )
    .await;
    let mut ws = match accepted {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            debug!("obs-websocket: {remote}: handshake failed: {e}");
            return;
        }
        Err(_) => {
            debug!("obs-websocket: {remote}: handshake timed out");
            return;
        }
    };
    if encoding == Encoding::MsgPack {
        info!("obs-websocket: {remote} asked for MessagePack; closing (JSON only)");
        close_with(
            &mut ws,
            close::UNSUPPORTED_FEATURE,
            "obswebsocket.msgpack is not supported by this server; use obswebsocket.json",
        )
        .await;
        return;
    }
    let challenge = match shared.auth.as_ref().map(|_| protocol::random_token()) {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            warn!("obs-websocket: no random challenge for {remote}: {e}");
            close_with(&mut ws, 1011, "no random challenge").await;
            return;
        }
        None => None,
    };
    let mut state = SessionState {
        session: Session {
            remote,
            incoming: 0,
            outgoing: 0,
        },
        identified: false,
        subscriptions: subscription::ALL,
        expected_auth: shared
            .auth
            .as_ref()
            .zip(challenge.as_ref())
            .map(|((secret, _), challenge)| protocol::answer(secret, challenge)),
    };
    let mut hello = json!({
        "obsStudioVersion": OBS_STUDIO_VERSION,
        "obsWebSocketVersion": OBS_WEBSOCKET_VERSION,
        "rpcVersion": RPC_VERSION,
    });
    if let (Some((_, salt)), Some(challenge)) = (&shared.auth, &challenge) {
        hello["authentication"] = json!({ "challenge": challenge, "salt": salt });
    }
    if send(&mut ws, &protocol::message(op::HELLO, hello), &mut state)
        .await
        .is_err()
    {
        return;
    }
    debug!("obs-websocket: {remote} connected");
    let mut events: Option<broadcast::Receiver<Arc<Event>>> = None;
    loop {
        tokio::select! {
            incoming = ws.next() => {
                let text = match incoming {
                    None | Some(Ok(Message::Close(_))) => break,
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Binary(_))) => {
                        close_with(&mut ws, close::MESSAGE_DECODE_ERROR,
                            "Your session encoding is set to Json, but a binary message was received.").await;
                        break;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(tungstenite::Error::Capacity(e))) => {
                        info!("obs-websocket: {remote}: {e}; closing it");
                        close_with(&mut ws, 1009, "message too big").await;
                        break;
                    }
                    Some(Err(e)) => {
                        debug!("obs-websocket: {remote}: {e}");
                        break;
                    }
                };
                state.session.incoming += 1;
                let outcome = tokio::task::block_in_place(|| process(&mut state, &text, shared));
                // Before `Identified` goes out, so no event after it is missed.
                if state.identified && events.is_none() {
                    events = Some(shared.events.subscribe());
                }
                match outcome {
                    Outcome::Reply(reply) => {
                        if send(&mut ws, &reply, &mut state).await.is_err() {
                            break;
                        }
                    }
                    Outcome::Close(code, reason) => {
                        info!("obs-websocket: closing {remote} ({code}): {reason}");
                        close_with(&mut ws, code, &reason).await;
                        break;
                    }
                }
            }
            event = next_event(&mut events) => match event {
                Ok(event) => {
                    if event.intent & state.subscriptions != 0
                        && send(&mut ws, &event.to_message(), &mut state).await.is_err()
                    {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    warn!("obs-websocket: {remote} is slow; {n} events dropped for it");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = stopped.changed() => {
                close_with(&mut ws, 1001, "server stopping").await;
                break;
            }
        }
    }
    debug!("obs-websocket: {remote} disconnected");
}

async fn next_event(
    events: &mut Option<broadcast::Receiver<Arc<Event>>>,
) -> Result<Arc<Event>, broadcast::error::RecvError> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn send(
    ws: &mut WebSocketStream<TcpStream>,
    message: &Value,
    state: &mut SessionState,
) -> Result<(), tungstenite::Error> {
    state.session.outgoing += 1;
    ws.send(Message::text(message.to_string())).await
}

async fn close_with(ws: &mut WebSocketStream<TcpStream>, code: u16, reason: &str) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    };
    let _ = ws.close(Some(frame)).await;
}

struct SessionState {
    session: Session,
    identified: bool,
    subscriptions: u64,
    /// The `authentication` string this session must send, when a password is set.
    expected_auth: Option<String>,
}

/// What one client message leads to.
#[derive(Debug, PartialEq)]
enum Outcome {
    Reply(Value),
    Close(u16, String),
}

fn closing(code: u16, reason: &str) -> Outcome {
    Outcome::Close(code, reason.to_owned())
}

/// One text message, as obs-websocket's `WebSocketServer::onMessage` and `ProcessMessage`
/// treat it (the same checks in the same order, so clients see the same close codes).
fn process(state: &mut SessionState, text: &str, shared: &Shared) -> Outcome {
    let message: Value = match serde_json::from_str(text) {
        Ok(m) => m,
        Err(e) => {
            return Outcome::Close(
                close::MESSAGE_DECODE_ERROR,
                format!("Unable to decode Json: {e}"),
            );
        }
    };
    let Value::Object(message) = message else {
        return closing(
            close::MESSAGE_DECODE_ERROR,
            "You sent a non-object payload.",
        );
    };
    if !state.identified && message.contains_key("request-type") {
        return closing(
            close::UNSUPPORTED_RPC_VERSION,
            "You appear to be attempting to connect with the pre-5.0.0 plugin protocol.",
        );
    }
    let opcode = match message.get("op") {
        None => return closing(close::UNKNOWN_OP_CODE, "Your request is missing an `op`."),
        Some(v) => match v.as_u64() {
            Some(o) => o,
            None => return closing(close::UNKNOWN_OP_CODE, "Your `op` is not a number."),
        },
    };
    let d = match message.get("d") {
        None | Some(Value::Null) => {
            return closing(
                close::MISSING_DATA_FIELD,
                "Your payload is missing data (`d`).",
            );
        }
        Some(Value::Object(d)) => d,
        Some(_) => {
            return closing(
                close::INVALID_DATA_FIELD_TYPE,
                "Your payload's data (`d`) is not an object.",
            );
        }
    };
    if !state.identified && opcode != op::IDENTIFY {
        return closing(
            close::NOT_IDENTIFIED,
            "You attempted to send a non-Identify message while not identified.",
        );
    }
    match opcode {
        op::IDENTIFY => identify(state, d),
        op::REIDENTIFY => match subscriptions(d) {
            Ok(subs) => {
                state.subscriptions = subs.unwrap_or(subscription::ALL);
                identified()
            }
            Err(close) => close,
        },
        op::REQUEST => {
            if !d.contains_key("requestId") {
                return closing(
                    close::MISSING_DATA_FIELD,
                    "Your payload data is missing a `requestId`.",
                );
            }
            let request_type = match d.get("requestType") {
                None => {
                    return closing(
                        close::MISSING_DATA_FIELD,
                        "Your payload's data is missing an `requestType`.",
                    );
                }
                Some(Value::String(t)) => t.as_str(),
                Some(_) => {
                    return closing(
                        close::INVALID_DATA_FIELD_TYPE,
                        "Your `requestType` is not a string.",
                    );
                }
            };
            let data = d.get("requestData").unwrap_or(&Value::Null);
            let result = run_request(state, shared, request_type, data, execution::NONE);
            let mut response = result_json(request_type, d.get("requestId"), result);
            response["requestId"] = d.get("requestId").cloned().unwrap_or(Value::Null);
            Outcome::Reply(protocol::message(op::REQUEST_RESPONSE, response))
        }
        op::REQUEST_BATCH => batch(state, shared, d),
        _ => closing(close::UNKNOWN_OP_CODE, "Your `op` is not a known op code."),
    }
}

fn identified() -> Outcome {
    Outcome::Reply(protocol::message(
        op::IDENTIFIED,
        json!({ "negotiatedRpcVersion": RPC_VERSION }),
    ))
}

/// `eventSubscriptions`, when given.
fn subscriptions(d: &Map<String, Value>) -> Result<Option<u64>, Outcome> {
    match d.get("eventSubscriptions") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            closing(
                close::INVALID_DATA_FIELD_TYPE,
                "Your `eventSubscriptions` is not an unsigned number.",
            )
        }),
    }
}

fn identify(state: &mut SessionState, d: &Map<String, Value>) -> Outcome {
    if state.identified {
        return closing(
            close::ALREADY_IDENTIFIED,
            "You are already Identified with the obs-websocket server.",
        );
    }
    if let Some(expected) = &state.expected_auth {
        match d.get("authentication") {
            Some(Value::String(got)) if protocol::same_secret(got, expected) => {}
            Some(Value::String(_)) => {
                warn!(
                    "obs-websocket: {} failed authentication",
                    state.session.remote
                );
                return closing(close::AUTHENTICATION_FAILED, "Authentication failed.");
            }
            Some(_) => {
                return closing(
                    close::AUTHENTICATION_FAILED,
                    "Your `authentication` field is not a string.",
                );
            }
            None => {
                return closing(
                    close::AUTHENTICATION_FAILED,
                    "Your payload's data is missing an `authentication` string, however authentication is required.",
                );
            }
        }
    }
    match d.get("rpcVersion") {
        None => {
            return closing(
                close::MISSING_DATA_FIELD,
                "Your payload's data is missing an `rpcVersion`.",
            );
        }
        Some(v) => match v.as_u64() {
            Some(RPC_VERSION) => {}
            Some(_) => {
                return closing(
                    close::UNSUPPORTED_RPC_VERSION,
                    "Your requested RPC version is not supported by this server.",
                );
            }
            None => {
                return closing(
                    close::INVALID_DATA_FIELD_TYPE,
                    "Your `rpcVersion` is not an unsigned number.",
                );
            }
        },
    }
    match subscriptions(d) {
        Ok(subs) => state.subscriptions = subs.unwrap_or(subscription::ALL),
        Err(close) => return close,
    }
    state.identified = true;
    info!("obs-websocket: {} identified", state.session.remote);
    identified()
}

/// One request's `requestType`, `requestId` (when given), `requestStatus` and `responseData`.
fn result_json(request_type: &str, request_id: Option<&Value>, result: Reply) -> Value {
    let mut r = json!({ "requestType": request_type });
    if let Some(id) = request_id.filter(|id| !id.is_null()) {
        r["requestId"] = id.clone();
    }
    match result {
        Ok(data) => {
            r["requestStatus"] = protocol::request_status(status::SUCCESS, None);
            if data.is_object() {
                r["responseData"] = data;
            }
        }
        Err(e) => r["requestStatus"] = protocol::request_status(e.code, e.comment.as_deref()),
    }
    r
}

/// Frames for `Sleep`'s `sleepFrames`: the show's nominal rate.
const FRAME: Duration = Duration::from_nanos(1_000_000_000 / 30);

fn run_request(
    state: &SessionState,
    shared: &Shared,
    request_type: &str,
    data: &Value,
    mode: i64,
) -> Reply {
    match request_type {
        "" => Err(RequestError::new(
            status::MISSING_REQUEST_TYPE,
            "Your request is missing a `requestType`.",
        )),
        "Sleep" => sleep(data, mode),
        _ => {
            let mut reply = shared.handler.request(request_type, data, &state.session)?;
            if request_type == "GetStats"
                && let Value::Object(stats) = &mut reply
            {
                stats.insert(
                    "webSocketSessionIncomingMessages".into(),
                    state.session.incoming.into(),
                );
                stats.insert(
                    "webSocketSessionOutgoingMessages".into(),
                    state.session.outgoing.into(),
                );
            }
            Ok(reply)
        }
    }
}

fn sleep(data: &Value, mode: i64) -> Reply {
    let (field, max, unit) = match mode {
        execution::SERIAL_REALTIME => ("sleepMillis", 50_000, Duration::from_millis(1)),
        execution::SERIAL_FRAME => ("sleepFrames", 10_000, FRAME),
        _ => {
            return Err(RequestError::new(
                status::UNSUPPORTED_REQUEST_BATCH_EXECUTION_TYPE,
                "Sleep is only available in SerialRealtime and SerialFrame request batches.",
            ));
        }
    };
    let n = match data.get(field) {
        None => return Err(RequestError::missing(field)),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| RequestError::wrong_type(field, "a number"))?,
    };
    if n > max {
        return Err(RequestError::new(
            status::REQUEST_FIELD_OUT_OF_RANGE,
            format!("Parameter: {field} must be <= {max}"),
        ));
    }
    std::thread::sleep(unit * u32::try_from(n).unwrap_or(u32::MAX));
    Ok(Value::Null)
}

/// `RequestBatch`: the requests in order. `Parallel` batches run serially too (the answers
/// are the same, in the same order); batch `variables` are not supported and ignored.
fn batch(state: &mut SessionState, shared: &Shared, d: &Map<String, Value>) -> Outcome {
    let Some(request_id) = d.get("requestId") else {
        return closing(
            close::MISSING_DATA_FIELD,
            "Your payload data is missing a `requestId`.",
        );
    };
    let mode = match d.get("executionType") {
        None | Some(Value::Null) => execution::SERIAL_REALTIME,
        Some(v) => match v.as_i64() {
            Some(
                m @ (execution::SERIAL_REALTIME | execution::SERIAL_FRAME | execution::PARALLEL),
            ) => m,
            Some(_) if v.is_u64() => {
                return closing(
                    close::INVALID_DATA_FIELD_VALUE,
                    "Your `executionType` has an invalid value.",
                );
            }
            _ => {
                return closing(
                    close::INVALID_DATA_FIELD_TYPE,
                    "Your `executionType` is not a number.",
                );
            }
        },
    };
    let halt = match d.get("haltOnFailure") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return closing(
                close::INVALID_DATA_FIELD_TYPE,
                "Your `haltOnFailure` is not a boolean.",
            );
        }
    };
    let requests = match d.get("requests") {
        None => {
            return closing(
                close::MISSING_DATA_FIELD,
                "Your payload data is missing a `requests`.",
            );
        }
        Some(Value::Array(r)) => r,
        Some(_) => {
            return closing(
                close::INVALID_DATA_FIELD_TYPE,
                "Your `requests` is not an array.",
            );
        }
    };
    let mut results = Vec::with_capacity(requests.len());
    for request in requests {
        let request_type = request
            .get("requestType")
            .and_then(Value::as_str)
            .unwrap_or("");
        let data = request.get("requestData").unwrap_or(&Value::Null);
        let result = run_request(state, shared, request_type, data, mode);
        let failed = result.is_err();
        results.push(result_json(request_type, request.get("requestId"), result));
        if failed && halt {
            break;
        }
    }
    Outcome::Reply(protocol::message(
        op::REQUEST_BATCH_RESPONSE,
        json!({ "requestId": request_id, "results": results }),
    ))
}

//! The server against a fake app, with a raw WebSocket client: the handshake with and without
//! a password, requests, batches, events and subscriptions, and every way a client can
//! misbehave (each closes that client with obs-websocket's close code; the server goes on).

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic with its message is the failure report"
)]

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use obs_websocket::protocol::{self, close, status, subscription};
use obs_websocket::{Event, Handler, Reply, RequestError, Server, ServerConfig, Session};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

struct Fake;

impl Handler for Fake {
    fn request(&self, request_type: &str, data: &Value, _: &Session) -> Reply {
        match request_type {
            "Echo" => Ok(json!({ "echo": data })),
            "Fail" => Err(RequestError::not_found("nothing here")),
            "GetStats" => Ok(json!({ "activeFps": 30.0 })),
            _ => Err(RequestError::new(status::UNKNOWN_REQUEST_TYPE, "unknown")),
        }
    }
}

fn server(password: Option<&str>, max: usize) -> Server {
    Server::start(
        ServerConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            password: password.map(str::to_owned),
            max_message_size: max,
            ..ServerConfig::default()
        },
        Arc::new(Fake),
    )
    .unwrap()
}

async fn connect(server: &Server, subprotocol: Option<&str>) -> (Ws, Option<String>) {
    let mut request = format!("ws://{}", server.local_addr())
        .into_client_request()
        .unwrap();
    if let Some(p) = subprotocol {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", p.parse().unwrap());
    }
    let (ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    let chosen = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .map(|v| v.to_str().unwrap().to_owned());
    (ws, chosen)
}

async fn recv(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 s")
            .expect("the connection is open")
            .unwrap();
        match m {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Close(c) => panic!("closed: {c:?}"),
            _ => {}
        }
    }
}

/// The close code the server ends with.
async fn closed_with(ws: &mut Ws) -> u16 {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("closed within 5 s")
        {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code.into(),
            Some(Ok(Message::Close(None))) | None => return 1005,
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("{e}"),
        }
    }
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

async fn identify(ws: &mut Ws, password: Option<&str>, subs: Option<u64>) -> Value {
    let hello = recv(ws).await;
    assert_eq!(hello["op"], 0);
    assert_eq!(hello["d"]["rpcVersion"], 1);
    let mut d = json!({ "rpcVersion": 1 });
    if let (Some(p), Some(auth)) = (password, hello["d"].get("authentication")) {
        d["authentication"] = protocol::auth_string(
            p,
            auth["salt"].as_str().unwrap(),
            auth["challenge"].as_str().unwrap(),
        )
        .into();
    }
    if let Some(s) = subs {
        d["eventSubscriptions"] = s.into();
    }
    send(ws, json!({ "op": 1, "d": d })).await;
    let identified = recv(ws).await;
    assert_eq!(
        identified,
        json!({ "op": 2, "d": { "negotiatedRpcVersion": 1 } })
    );
    hello
}

async fn request(ws: &mut Ws, ty: &str, data: Value) -> Value {
    send(
        ws,
        json!({ "op": 6, "d": { "requestType": ty, "requestId": "r1", "requestData": data } }),
    )
    .await;
    let r = recv(ws).await;
    assert_eq!(r["op"], 7);
    assert_eq!(r["d"]["requestId"], "r1");
    assert_eq!(r["d"]["requestType"], ty);
    r["d"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_batches_and_unknown_types_without_a_password() {
    let server = server(None, 1 << 20);
    let (mut ws, chosen) = connect(&server, Some("obswebsocket.json")).await;
    assert_eq!(chosen.as_deref(), Some("obswebsocket.json"));
    let hello = identify(&mut ws, None, None).await;
    assert!(hello["d"].get("authentication").is_none());

    let r = request(&mut ws, "Echo", json!({ "x": 1 })).await;
    assert_eq!(r["requestStatus"], json!({ "result": true, "code": 100 }));
    assert_eq!(r["responseData"], json!({ "echo": { "x": 1 } }));
    let r = request(&mut ws, "Fail", Value::Null).await;
    assert_eq!(r["requestStatus"]["code"], 600);
    assert_eq!(r["requestStatus"]["result"], false);
    let r = request(&mut ws, "NoSuchRequest", Value::Null).await;
    assert_eq!(r["requestStatus"]["code"], 204);
    // The server adds the session's message counters to GetStats.
    let r = request(&mut ws, "GetStats", Value::Null).await;
    assert_eq!(r["responseData"]["webSocketSessionIncomingMessages"], 5);
    assert_eq!(r["responseData"]["activeFps"], 30.0);

    // A batch: in order, Sleep works, haltOnFailure stops after the first failure.
    send(
        &mut ws,
        json!({ "op": 8, "d": { "requestId": "b", "haltOnFailure": true, "requests": [
            { "requestType": "Echo", "requestId": "one", "requestData": 1 },
            { "requestType": "Sleep", "requestData": { "sleepMillis": 20 } },
            { "requestType": "Fail" },
            { "requestType": "Echo" },
        ] } }),
    )
    .await;
    let b = recv(&mut ws).await;
    assert_eq!(b["op"], 9);
    assert_eq!(b["d"]["requestId"], "b");
    let results = b["d"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["requestId"], "one");
    assert_eq!(results[1]["requestStatus"]["code"], 100);
    assert_eq!(results[2]["requestStatus"]["code"], 600);
    // Sleep outside a batch is refused, not fatal.
    let r = request(&mut ws, "Sleep", json!({ "sleepMillis": 1 })).await;
    assert_eq!(r["requestStatus"]["code"], 206);

    // No subprotocol is JSON too.
    let (mut plain, chosen) = connect(&server, None).await;
    assert_eq!(chosen, None);
    identify(&mut plain, None, None).await;
    assert_eq!(
        request(&mut plain, "Echo", json!(2)).await["responseData"]["echo"],
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_is_checked_and_a_wrong_one_closes_with_4009() {
    let server = server(Some("hunter2"), 1 << 20);
    let (mut ws, _) = connect(&server, None).await;
    let hello = identify(&mut ws, Some("hunter2"), None).await;
    let auth = &hello["d"]["authentication"];
    assert!(auth["salt"].is_string() && auth["challenge"].is_string());
    assert_eq!(
        request(&mut ws, "Echo", json!(1)).await["requestStatus"]["code"],
        100
    );

    for bad in [json!("not the answer"), json!(42), Value::Null] {
        let (mut ws, _) = connect(&server, None).await;
        recv(&mut ws).await;
        let mut d = json!({ "rpcVersion": 1 });
        if !bad.is_null() {
            d["authentication"] = bad;
        }
        send(&mut ws, json!({ "op": 1, "d": d })).await;
        assert_eq!(closed_with(&mut ws).await, close::AUTHENTICATION_FAILED);
    }
    // Still serving.
    let (mut ws, _) = connect(&server, None).await;
    identify(&mut ws, Some("hunter2"), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_clients_are_closed_with_the_spec_codes_and_the_server_goes_on() {
    let server = server(None, 4096);
    let cases: Vec<(Message, bool, u16)> = vec![
        (
            Message::text("{not json"),
            false,
            close::MESSAGE_DECODE_ERROR,
        ),
        (Message::text("[1,2]"), false, close::MESSAGE_DECODE_ERROR),
        (
            Message::binary(vec![1u8, 2, 3]),
            false,
            close::MESSAGE_DECODE_ERROR,
        ),
        (
            Message::text(r#"{"op":6,"d":{"requestType":"Echo","requestId":"1"}}"#),
            false,
            close::NOT_IDENTIFIED,
        ),
        (
            Message::text(r#"{"request-type":"GetVersion","message-id":"1"}"#),
            false,
            close::UNSUPPORTED_RPC_VERSION,
        ),
        (
            Message::text(r#"{"op":1,"d":{"rpcVersion":2}}"#),
            false,
            close::UNSUPPORTED_RPC_VERSION,
        ),
        (
            Message::text(r#"{"op":1,"d":{}}"#),
            false,
            close::MISSING_DATA_FIELD,
        ),
        (
            Message::text(r#"{"op":1}"#),
            false,
            close::MISSING_DATA_FIELD,
        ),
        (
            Message::text(r#"{"op":1,"d":{"rpcVersion":"1"}}"#),
            false,
            close::INVALID_DATA_FIELD_TYPE,
        ),
        (Message::text(r#"{"d":{}}"#), true, close::UNKNOWN_OP_CODE),
        (
            Message::text(r#"{"op":42,"d":{}}"#),
            true,
            close::UNKNOWN_OP_CODE,
        ),
        (
            Message::text(r#"{"op":1,"d":{"rpcVersion":1}}"#),
            true,
            close::ALREADY_IDENTIFIED,
        ),
        (
            Message::text(r#"{"op":6,"d":{"requestType":"Echo"}}"#),
            true,
            close::MISSING_DATA_FIELD,
        ),
        (
            Message::text(r#"{"op":8,"d":{"requestId":"b","executionType":7,"requests":[]}}"#),
            true,
            close::INVALID_DATA_FIELD_VALUE,
        ),
        (Message::text("x".repeat(8192)), true, 1009),
    ];
    for (message, identified, code) in cases {
        let (mut ws, _) = connect(&server, None).await;
        if identified {
            identify(&mut ws, None, None).await;
        } else {
            recv(&mut ws).await;
        }
        ws.send(message.clone()).await.unwrap();
        assert_eq!(closed_with(&mut ws).await, code, "{message:?}");
    }
    // MessagePack is refused with a clear code right after the upgrade.
    let (mut ws, chosen) = connect(&server, Some("obswebsocket.msgpack")).await;
    assert_eq!(chosen.as_deref(), Some("obswebsocket.msgpack"));
    assert_eq!(closed_with(&mut ws).await, close::UNSUPPORTED_FEATURE);

    // 100 clients come and go (half of them without a word), and the server still answers.
    let mut clients = Vec::new();
    for i in 0..100 {
        let (mut ws, _) = connect(&server, None).await;
        if i % 2 == 0 {
            identify(&mut ws, None, None).await;
        }
        clients.push(ws);
    }
    for (i, mut ws) in clients.into_iter().enumerate() {
        if i % 3 == 0 {
            ws.close(None).await.unwrap();
        }
    }
    let (mut ws, _) = connect(&server, None).await;
    identify(&mut ws, None, None).await;
    assert_eq!(
        request(&mut ws, "Echo", json!(1)).await["requestStatus"]["code"],
        100
    );
    let start = std::time::Instant::now();
    while server.sessions() > 1 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{} sessions left",
            server.sessions()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_subscribed_identified_clients_only() {
    let server = server(None, 1 << 20);
    let (mut all, _) = connect(&server, None).await;
    identify(&mut all, None, None).await;
    let (mut scenes_only, _) = connect(&server, None).await;
    identify(&mut scenes_only, None, Some(subscription::SCENES)).await;

    server.emit(Event::new(
        "VendorEvent",
        subscription::VENDORS,
        json!({ "n": 1 }),
    ));
    server.emit(Event::new(
        "CurrentProgramSceneChanged",
        subscription::SCENES,
        json!({ "sceneName": "b" }),
    ));
    let e = recv(&mut all).await;
    assert_eq!(
        e,
        json!({ "op": 5, "d": { "eventType": "VendorEvent", "eventIntent": 512, "eventData": { "n": 1 } } })
    );
    assert_eq!(
        recv(&mut all).await["d"]["eventType"],
        "CurrentProgramSceneChanged"
    );
    // The scenes-only client never saw the vendor event.
    assert_eq!(
        recv(&mut scenes_only).await["d"]["eventType"],
        "CurrentProgramSceneChanged"
    );

    // Reidentify to nothing: no more events (a request still answers, and comes first).
    send(
        &mut scenes_only,
        json!({ "op": 3, "d": { "eventSubscriptions": 0 } }),
    )
    .await;
    assert_eq!(recv(&mut scenes_only).await["op"], 2);
    server.emit(Event::new(
        "CurrentProgramSceneChanged",
        subscription::SCENES,
        json!({}),
    ));
    assert_eq!(
        request(&mut scenes_only, "Echo", json!(0)).await["requestStatus"]["code"],
        100
    );
    assert_eq!(
        recv(&mut all).await["d"]["eventType"],
        "CurrentProgramSceneChanged"
    );
}

#[test]
fn listening_beyond_loopback_needs_a_password() {
    let config = ServerConfig {
        addr: "0.0.0.0:0".parse().unwrap(),
        ..ServerConfig::default()
    };
    assert!(matches!(
        Server::start(config.clone(), Arc::new(Fake)),
        Err(obs_websocket::Error::PasswordRequired(_))
    ));
    let empty = ServerConfig {
        password: Some(String::new()),
        ..config
    };
    assert!(Server::start(empty, Arc::new(Fake)).is_err());
}

//! Outgoing network: only wasi:http, only to the hosts the instance was granted. Raw sockets
//! stay closed (the WASI context allows no addresses). wasi:http does not follow redirects, so
//! a guest that follows one makes a new request, which comes through this filter again.

use std::sync::{Arc, Mutex};

use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks};

use crate::capabilities::HostPattern;

/// The hosts one call may reach, and a record of what it tried that was refused.
#[derive(Clone, Default)]
pub struct NetworkPolicy {
    allowed: Vec<HostPattern>,
    denied: Arc<Mutex<Vec<String>>>,
}

impl NetworkPolicy {
    pub fn new(allowed: Vec<HostPattern>) -> Self {
        NetworkPolicy {
            allowed,
            denied: Arc::default(),
        }
    }

    /// `host[:port]` as the request names it.
    pub fn allows(&self, authority: &str) -> bool {
        self.allowed.iter().any(|p| p.matches(authority))
    }

    /// Hosts refused during the call, in order, without repeats.
    pub fn denied(&self) -> Vec<String> {
        self.denied.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// The refused hosts so far, leaving the record empty for the next call in this store.
    pub fn take_denied(&self) -> Vec<String> {
        self.denied
            .lock()
            .map(|mut d| std::mem::take(&mut *d))
            .unwrap_or_default()
    }
}

type ResponseFuture = Box<
    dyn Future<
            Output = wasmtime_wasi_http::Result<(
                http::Response<WasiBody>,
                Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
            )>,
        > + Send,
>;

impl WasiHttpHooks for NetworkPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> ResponseFuture {
        let authority = request
            .uri()
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default();
        // Userinfo (`user@host`) never decides where a request goes.
        let host = authority.rsplit('@').next().unwrap_or_default().to_string();
        if !self.allows(&host) {
            if let Ok(mut denied) = self.denied.lock()
                && !denied.contains(&host)
            {
                denied.push(host);
            }
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        wasmtime_wasi_http::default_hooks().send_request(request, options, fut)
    }
}

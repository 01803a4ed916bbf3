//! Loading the component once and calling it in a fresh instance per call.

use wasmtime::Result;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::error::Context;
use wasmtime::{Config, Engine, Store};

use crate::bindings::{CallState, GetTotpCode, GetTotpCodePre};
use crate::call::Call;

/// The compiled component, ready to instantiate. Cheap to share across
/// threads (`&TotpTool` is all a call needs); every call gets its own store
/// and instance, so no state survives from one call to the next.
pub struct TotpTool {
    engine: Engine,
    pre: GetTotpCodePre<CallState>,
}

impl TotpTool {
    /// Compiles the component embedded in this crate.
    pub fn new() -> Result<Self> {
        let engine = Engine::new(&engine_config()).context("creating the wasmtime engine")?;
        let component = Component::new(&engine, crate::artifact::COMPONENT_BYTES)
            .context("compiling the get_totp_code component")?;
        Self::from_component(engine, &component)
    }

    /// Links an already loaded component: only the three imports of the WIT
    /// world are defined, so a component asking for anything else fails here.
    pub fn from_component(engine: Engine, component: &Component) -> Result<Self> {
        let mut linker = Linker::<CallState>::new(&engine);
        GetTotpCode::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .context("defining the host imports")?;
        let instance_pre = linker
            .instantiate_pre(component)
            .context("linking the component against the host imports")?;
        let pre = GetTotpCodePre::new(instance_pre)
            .context("checking the component's exports against the WIT world")?;
        Ok(TotpTool { engine, pre })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// `get-totp-code(username)` in a fresh instance.
    pub fn try_get_totp_code(&self, call: &Call, username: &str) -> Result<String> {
        self.with_instance(call, |tool, store| tool.call_get_totp_code(store, username))
    }

    /// `invoke(arguments)` in a fresh instance.
    pub fn try_invoke(&self, call: &Call, arguments: &str) -> Result<String> {
        self.with_instance(call, |tool, store| tool.call_invoke(store, arguments))
    }

    /// `describe()`: the tool definition to register with an LLM.
    pub fn describe(&self, call: &Call) -> Result<String> {
        self.with_instance(call, |tool, store| tool.call_describe(store))
    }

    /// Like [`TotpTool::try_get_totp_code`], but a failure of the call itself
    /// (a trap, a link error) becomes the tool's `host_error` result too, so
    /// an agent always gets the JSON shape it was promised.
    pub fn get_totp_code(&self, call: &Call, username: &str) -> String {
        self.try_get_totp_code(call, username)
            .unwrap_or_else(|error| host_error_json(&error))
    }

    /// [`TotpTool::try_invoke`] with failures as `host_error` results.
    pub fn invoke(&self, call: &Call, arguments: &str) -> String {
        self.try_invoke(call, arguments)
            .unwrap_or_else(|error| host_error_json(&error))
    }

    fn with_instance<R>(
        &self,
        call: &Call,
        run: impl FnOnce(&GetTotpCode, &mut Store<CallState>) -> wasmtime::Result<R>,
    ) -> Result<R> {
        let mut store = Store::new(&self.engine, CallState { call: call.clone() });
        let tool = self
            .pre
            .instantiate(&mut store)
            .context("instantiating the component")?;
        run(&tool, &mut store).context("the get_totp_code component failed")
    }
}

fn engine_config() -> Config {
    Config::new()
}

/// The tool's failure JSON for an error of the host or the sandbox.
pub fn host_error_json(error: &wasmtime::Error) -> String {
    serde_json::json!({
        "success": false,
        "error": format!("Host error: {error:#}"),
        "error_code": "host_error",
    })
    .to_string()
}

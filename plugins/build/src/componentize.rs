//! Turns a core module into a component and checks its world.

use anyhow::{Context, Result, bail};
use wit_component::{ComponentEncoder, DecodedWasm};
use wit_parser::{WorldItem, WorldKey};

/// The one interface a plugin component may import.
pub(crate) const HOST_INTERFACE: &str = "sandnotes:plugin/host@0.1.0";

/// The one function a plugin component must export.
pub(crate) const RUN_EXPORT: &str = "run";

/// Encodes a core module that carries wit-bindgen's component-type section
/// as a validated component.
pub(crate) fn encode(core: &[u8]) -> Result<Vec<u8>> {
    ComponentEncoder::default()
        .validate(true)
        .module(core)?
        .encode()
}

/// Checks that the component imports only [`HOST_INTERFACE`] and exports
/// only [`RUN_EXPORT`], the same rule the registry applies at upload.
pub(crate) fn check_world(component: &[u8]) -> Result<()> {
    let decoded = wit_component::decode(component).context("failed to decode the component")?;
    let DecodedWasm::Component(resolve, world_id) = decoded else {
        bail!("the encoder produced a WIT package instead of a component");
    };
    let world = &resolve.worlds[world_id];

    // Types defined in the world itself (the `output` variant) appear as
    // type imports of the decoded world; they are not capabilities.
    let capability_imports = world
        .imports
        .iter()
        .filter(|(_, item)| !matches!(item, WorldItem::Type { .. }));
    for (key, _) in capability_imports {
        let name = key_name(&resolve, key);
        if name != HOST_INTERFACE {
            bail!("imports {name}, but a plugin may import only {HOST_INTERFACE}");
        }
    }

    let exports: Vec<String> = world
        .exports
        .keys()
        .map(|key| key_name(&resolve, key))
        .collect();
    if exports != [RUN_EXPORT] {
        bail!("exports {exports:?}, but a plugin must export only {RUN_EXPORT:?}");
    }
    Ok(())
}

fn key_name(resolve: &wit_parser::Resolve, key: &WorldKey) -> String {
    match key {
        WorldKey::Name(name) => name.clone(),
        WorldKey::Interface(id) => resolve
            .id_of(*id)
            .unwrap_or_else(|| "an unnamed interface".to_owned()),
    }
}

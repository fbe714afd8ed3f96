//! The plugin world that uploads are checked against, and the check that an
//! uploaded component's world fits inside it.
//!
//! A component's world is decoded from its binary and compared structurally
//! with the reference world parsed from the repository's WIT file: types match
//! by shape (primitive, variant cases, enum cases, result, option, list,
//! tuple, record fields), not by name, because names are not part of a
//! component's type.

use std::sync::OnceLock;

use wit_parser::{Function, InterfaceId, Resolve, Type, TypeDefKind, WorldId, WorldItem, WorldKey};

use crate::validate::{Rejection, Rule};

/// The WIT text of the plugin world, `sandnotes:plugin`.
pub const PLUGIN_WIT: &str = include_str!("../../plugins/wit/plugin.wit");

/// The only interface a plugin may import.
const HOST_INTERFACE: &str = "sandnotes:plugin/host@0.1.0";

/// The only function a plugin exports.
const RUN_EXPORT: &str = "run";

/// Types nest at most this deep in a signature the registry accepts; the
/// plugin world's deepest is 3 (`result<output, string>` over `string`).
const MAX_TYPE_DEPTH: u32 = 16;

struct Reference {
    resolve: Resolve,
    host: InterfaceId,
    run: Function,
}

fn reference() -> &'static Reference {
    static REFERENCE: OnceLock<Reference> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let mut resolve = Resolve::default();
        // The WIT file is part of this crate's source: failing to parse it is
        // a build defect, caught by this crate's tests, not an input error.
        let package = resolve
            .push_str("plugin.wit", PLUGIN_WIT)
            .expect("the plugin WIT file parses");
        let world_id = resolve
            .select_world(&[package], Some("plugin"))
            .expect("the plugin WIT file defines the `plugin` world");
        let world = &resolve.worlds[world_id];

        let host = world
            .imports
            .values()
            .find_map(|item| match item {
                WorldItem::Interface { id, .. } => Some(*id),
                _ => None,
            })
            .expect("the plugin world imports the host interface");
        let run = world
            .exports
            .iter()
            .find_map(|(key, item)| match (key, item) {
                (WorldKey::Name(name), WorldItem::Function(function)) if name == RUN_EXPORT => {
                    Some(function.clone())
                }
                _ => None,
            })
            .expect("the plugin world exports `run`");

        Reference { resolve, host, run }
    })
}

/// Checks that the world of an uploaded component imports only host
/// functions and exports only `run`, each with the reference signature.
pub(crate) fn check(resolve: &Resolve, world_id: WorldId) -> Result<(), Rejection> {
    let reference = reference();
    let world = &resolve.worlds[world_id];

    for (key, item) in &world.imports {
        check_import(resolve, key, item, reference)?;
    }

    let mut has_run = false;
    for (key, item) in &world.exports {
        let name = resolve.name_world_key(key);
        match item {
            WorldItem::Function(function) if name == RUN_EXPORT => {
                if !same_signature(resolve, function, &reference.resolve, &reference.run) {
                    return Err(Rejection::new(
                        Rule::RunSignature,
                        "the `run` export does not have the signature \
                         `func(args: string) -> result<output, string>` of the plugin world",
                    ));
                }
                has_run = true;
            }
            _ => {
                return Err(Rejection::new(
                    Rule::UnexpectedExport,
                    format!("the component exports `{name}`; a plugin exports only `run`"),
                ));
            }
        }
    }

    if !has_run {
        return Err(Rejection::new(
            Rule::MissingRun,
            "the component does not export `run`",
        ));
    }
    Ok(())
}

fn check_import(
    resolve: &Resolve,
    key: &WorldKey,
    item: &WorldItem,
    reference: &Reference,
) -> Result<(), Rejection> {
    let forbidden = |name: &str| {
        Rejection::new(
            Rule::ForbiddenImport,
            format!("the component imports `{name}`; plugins may import only `{HOST_INTERFACE}`"),
        )
    };

    match item {
        WorldItem::Interface { id, .. } => {
            let name = interface_name(resolve, key, *id);
            if name != HOST_INTERFACE {
                return Err(forbidden(&name));
            }

            let expected = &reference.resolve.interfaces[reference.host];
            for (function_name, function) in &resolve.interfaces[*id].functions {
                let Some(expected_function) = expected.functions.get(function_name) else {
                    return Err(forbidden(&format!("{name}#{function_name}")));
                };
                if !same_signature(resolve, function, &reference.resolve, expected_function) {
                    return Err(Rejection::new(
                        Rule::ImportSignature,
                        format!(
                            "the component imports `{name}#{function_name}` with a signature \
                             other than the plugin world's"
                        ),
                    ));
                }
            }
            Ok(())
        }
        WorldItem::Function(function) => Err(forbidden(&function.name)),
        // A type import grants nothing unless it is a resource, which carries
        // host state; the plugin world has none.
        WorldItem::Type { id, .. } => match &resolve.types[*id].kind {
            TypeDefKind::Resource | TypeDefKind::Handle(_) => {
                Err(forbidden(&resolve.name_world_key(key)))
            }
            _ => Ok(()),
        },
    }
}

/// The fully qualified name of an imported interface, or the import's plain
/// name for an inline interface.
fn interface_name(resolve: &Resolve, key: &WorldKey, id: InterfaceId) -> String {
    let interface = &resolve.interfaces[id];
    match (&interface.package, &interface.name) {
        (Some(package), Some(name)) => resolve.id_of_name(*package, name),
        _ => resolve.name_world_key(key),
    }
}

fn same_signature(a: &Resolve, fa: &Function, b: &Resolve, fb: &Function) -> bool {
    if fa.params.len() != fb.params.len() {
        return false;
    }
    let params_match = fa
        .params
        .iter()
        .zip(&fb.params)
        .all(|(pa, pb)| same_type(a, pa.ty, b, pb.ty, 0));

    let result_matches = match (fa.result, fb.result) {
        (None, None) => true,
        (Some(ta), Some(tb)) => same_type(a, ta, b, tb, 0),
        _ => false,
    };

    params_match && result_matches
}

/// Follows type aliases to the type they name.
fn dealias(resolve: &Resolve, mut ty: Type) -> Type {
    for _ in 0..MAX_TYPE_DEPTH {
        match ty {
            Type::Id(id) => match resolve.types[id].kind {
                TypeDefKind::Type(inner) => ty = inner,
                _ => return ty,
            },
            _ => return ty,
        }
    }
    ty
}

fn same_type(a: &Resolve, ta: Type, b: &Resolve, tb: Type, depth: u32) -> bool {
    if depth > MAX_TYPE_DEPTH {
        return false;
    }
    let next = depth + 1;
    let same_optional = |oa: Option<Type>, ob: Option<Type>| match (oa, ob) {
        (None, None) => true,
        (Some(x), Some(y)) => same_type(a, x, b, y, next),
        _ => false,
    };

    match (dealias(a, ta), dealias(b, tb)) {
        (Type::Id(ia), Type::Id(ib)) => {
            match (&a.types[ia].kind, &b.types[ib].kind) {
                (TypeDefKind::Variant(va), TypeDefKind::Variant(vb)) => {
                    va.cases.len() == vb.cases.len()
                        && va
                            .cases
                            .iter()
                            .zip(&vb.cases)
                            .all(|(ca, cb)| ca.name == cb.name && same_optional(ca.ty, cb.ty))
                }
                (TypeDefKind::Enum(ea), TypeDefKind::Enum(eb)) => {
                    ea.cases.len() == eb.cases.len()
                        && ea
                            .cases
                            .iter()
                            .zip(&eb.cases)
                            .all(|(ca, cb)| ca.name == cb.name)
                }
                (TypeDefKind::Result(ra), TypeDefKind::Result(rb)) => {
                    same_optional(ra.ok, rb.ok) && same_optional(ra.err, rb.err)
                }
                (TypeDefKind::Option(oa), TypeDefKind::Option(ob))
                | (TypeDefKind::List(oa), TypeDefKind::List(ob)) => same_type(a, *oa, b, *ob, next),
                (TypeDefKind::Tuple(ta), TypeDefKind::Tuple(tb)) => {
                    ta.types.len() == tb.types.len()
                        && ta
                            .types
                            .iter()
                            .zip(&tb.types)
                            .all(|(x, y)| same_type(a, *x, b, *y, next))
                }
                (TypeDefKind::Record(ra), TypeDefKind::Record(rb)) => {
                    ra.fields.len() == rb.fields.len()
                        && ra.fields.iter().zip(&rb.fields).all(|(fa, fb)| {
                            fa.name == fb.name && same_type(a, fa.ty, b, fb.ty, next)
                        })
                }
                // Resources, flags, streams, futures, maps and fixed-length lists
                // do not appear in the plugin world.
                _ => false,
            }
        }
        (Type::Id(_), _) | (_, Type::Id(_)) => false,
        (pa, pb) => pa == pb,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_world_parses() {
        let reference = reference();
        assert_eq!(reference.run.params.len(), 1);
        assert!(
            reference.resolve.interfaces[reference.host]
                .functions
                .contains_key("note-body")
        );
    }
}

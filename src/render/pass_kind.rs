//! The pass-kind table: which shader file draws each kind of pass. What each kind's uniforms
//! hold is packed by [`super::params`]; which variant of its pipeline runs, by
//! [`super::pipelines`].

use show::plan::PassOp;

/// What every pass shader imports (`#import metadj::common::{...}`).
pub(super) const COMMON: &str = include_str!("../../shaders/common.wgsl");
/// The vertex stage of every pass.
pub(super) const FULLSCREEN: &str = include_str!("../../shaders/fullscreen.wgsl");

/// One render pipeline (and one shader file) per kind of pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Kind {
    Copy,
    Solid,
    Gradient,
    TestPattern,
    GarbageMatte,
    Blend,
    ChromaKey,
    LumaKey,
    Matte,
    Invert,
    /// The `feather` node's separable blur (`PassOp::BlurH` / `BlurV`).
    Feather,
    Mask,
    /// The `segment` node's mask upsampling (`PassOp::Segment`).
    Segment,
    ColorAdjust,
    /// The final pass: transition, over black, into the sRGB output.
    Program,
    /// Stores static inputs in a pack texture (not a plan pass; see `super::packing`).
    Pack,
}

impl Kind {
    pub(super) const ALL: [Kind; 16] = [
        Kind::Copy,
        Kind::Solid,
        Kind::Gradient,
        Kind::TestPattern,
        Kind::GarbageMatte,
        Kind::Blend,
        Kind::ChromaKey,
        Kind::LumaKey,
        Kind::Matte,
        Kind::Invert,
        Kind::Feather,
        Kind::Mask,
        Kind::Segment,
        Kind::ColorAdjust,
        Kind::Program,
        Kind::Pack,
    ];

    pub(super) fn of(op: &PassOp) -> Kind {
        match op {
            PassOp::Solid(_) => Kind::Solid,
            PassOp::Gradient(_) => Kind::Gradient,
            PassOp::TestPattern(_) => Kind::TestPattern,
            PassOp::GarbageMatte(_) => Kind::GarbageMatte,
            PassOp::Copy => Kind::Copy,
            PassOp::Blend(_) => Kind::Blend,
            PassOp::ChromaKey(_) => Kind::ChromaKey,
            PassOp::LumaKey { .. } => Kind::LumaKey,
            PassOp::Matte(_) => Kind::Matte,
            PassOp::Invert => Kind::Invert,
            PassOp::BlurH { .. } | PassOp::BlurV { .. } => Kind::Feather,
            PassOp::Mask => Kind::Mask,
            PassOp::Segment { .. } => Kind::Segment,
            PassOp::ColorAdjust(_) => Kind::ColorAdjust,
        }
    }

    /// `(file name, WGSL source)` of the kind's fragment shader.
    pub(super) fn shader(self) -> (&'static str, &'static str) {
        match self {
            Kind::Copy => ("copy", include_str!("../../shaders/copy.wgsl")),
            Kind::Solid => ("solid", include_str!("../../shaders/solid.wgsl")),
            Kind::Gradient => ("gradient", include_str!("../../shaders/gradient.wgsl")),
            Kind::TestPattern => (
                "test_pattern",
                include_str!("../../shaders/test_pattern.wgsl"),
            ),
            Kind::GarbageMatte => (
                "garbage_matte",
                include_str!("../../shaders/garbage_matte.wgsl"),
            ),
            Kind::Blend => ("blend", include_str!("../../shaders/blend.wgsl")),
            Kind::ChromaKey => ("chroma_key", include_str!("../../shaders/chroma_key.wgsl")),
            Kind::LumaKey => ("luma_key", include_str!("../../shaders/luma_key.wgsl")),
            Kind::Matte => ("matte", include_str!("../../shaders/matte.wgsl")),
            Kind::Invert => ("invert", include_str!("../../shaders/invert.wgsl")),
            Kind::Feather => ("feather", include_str!("../../shaders/feather.wgsl")),
            Kind::Mask => ("mask", include_str!("../../shaders/mask.wgsl")),
            Kind::Segment => ("segment", include_str!("../../shaders/segment.wgsl")),
            Kind::ColorAdjust => (
                "color_adjust",
                include_str!("../../shaders/color_adjust.wgsl"),
            ),
            Kind::Program => ("program", include_str!("../../shaders/program.wgsl")),
            Kind::Pack => ("pack", include_str!("../../shaders/pack.wgsl")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use naga_oil::compose::{
        ComposableModuleDescriptor, Composer, NagaModuleDescriptor, ShaderDefValue,
    };
    use show::plan::MAX_PASS_INPUTS;

    use super::*;

    /// No two kinds share a shader file, every file exists, and each kind's shader is its own
    /// file (the table is keyed by kind, not by position).
    #[test]
    fn every_kind_has_its_own_shader_file() {
        let names: HashSet<&str> = Kind::ALL.iter().map(|k| k.shader().0).collect();
        assert_eq!(names.len(), Kind::ALL.len(), "two kinds share a shader");
        for kind in Kind::ALL {
            let (name, source) = kind.shader();
            let path = format!("{}/shaders/{name}.wgsl", env!("CARGO_MANIFEST_DIR"));
            let on_disk = std::fs::read_to_string(&path).expect("shader file");
            assert_eq!(on_disk, source, "{path}");
        }
    }

    /// Composes `source` as the pipeline cache does: `common.wgsl` as the module it imports,
    /// every shader def set (validating the result).
    fn compose(name: &str, source: &str) -> Result<naga::Module, String> {
        compose_with(COMMON, name, source)
    }

    fn compose_with(common: &str, name: &str, source: &str) -> Result<naga::Module, String> {
        let mut defs: HashMap<String, ShaderDefValue> = [
            "N_INPUTS",
            "SRGB_MASK",
            "STRAIGHT_MASK",
            "CROP_MASK",
            "LOAD_MASK",
            "PACK_MASK",
            "FINAL",
        ]
        .into_iter()
        .map(|d| (d.to_owned(), ShaderDefValue::UInt(3)))
        .collect();
        for i in 0..MAX_PASS_INPUTS {
            defs.insert(format!("MODE_{i}"), ShaderDefValue::UInt(1));
        }
        let mut composer = Composer::default();
        let added = composer
            .add_composable_module(ComposableModuleDescriptor {
                source: common,
                file_path: "shaders/common.wgsl",
                ..Default::default()
            })
            .map(|_| ());
        added.map_err(|e| e.emit_to_string(&composer))?;
        let made = composer.make_naga_module(NagaModuleDescriptor {
            source,
            file_path: &format!("shaders/{name}.wgsl"),
            shader_defs: defs,
            ..Default::default()
        });
        made.map_err(|e| e.emit_to_string(&composer))
    }

    /// Every kind's shader composes with `common.wgsl` and validates, and so does the vertex
    /// stage (catches WGSL mistakes without a GPU).
    #[test]
    fn shaders_validate() {
        for kind in Kind::ALL {
            let (name, source) = kind.shader();
            let module = compose(name, source).unwrap_or_else(|e| panic!("{name}: {e}"));
            let entry = if kind == Kind::Pack { "fs_pack" } else { "fs" };
            assert!(
                module.entry_points.iter().any(|e| e.name == entry),
                "{name} has no `{entry}`"
            );
        }
        let vertex = compose("fullscreen", FULLSCREEN).expect("fullscreen.wgsl");
        assert!(vertex.entry_points.iter().any(|e| e.name == "vs"));
    }

    /// A mistake in a kind's file is reported at that file's own line, not at an offset into
    /// a concatenation with `common.wgsl`.
    #[test]
    fn a_shader_error_names_its_file_and_line() {
        let (name, source) = Kind::Invert.shader();
        let line = source
            .lines()
            .position(|l| l.contains("return vec4<f32>(1.0 - sample_at"))
            .expect("invert.wgsl's body")
            + 1;
        let broken = source.replace(
            "sample_at(0u, in0, pos.xy).a",
            "smaple_at(0u, in0, pos.xy).a",
        );
        let message = compose(name, &broken).expect_err("an unknown function");
        assert!(
            message.contains(&format!("shaders/invert.wgsl:{line}:")),
            "{message}"
        );
        assert!(message.contains("smaple_at"), "{message}");
        // And one in the shared module names common.wgsl.
        let broken = COMMON.replace("fn luma709(c: vec3<f32>)", "fn luma709(c: vec3<f32>");
        let err = compose_with(&broken, "copy", Kind::Copy.shader().1)
            .expect_err("a syntax error in common.wgsl");
        assert!(err.contains("shaders/common.wgsl"), "{err}");
    }
}

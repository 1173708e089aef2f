//! The pass-kind table: which shader file draws each kind of pass. What each kind's uniforms
//! hold is packed by [`super::params`]; which variant of its pipeline runs, by
//! [`super::pipelines`].

use show::plan::PassOp;

const COMMON: &str = include_str!("../../shaders/common.wgsl");

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

    /// The full module: `common.wgsl` followed by the kind's file.
    pub(super) fn module_source(self) -> String {
        format!("{COMMON}\n{}", self.shader().1)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use show::plan::MAX_PASS_INPUTS;

    use super::*;

    /// No two kinds share a shader file, every file exists, and each kind's module is built
    /// from its own file (the table is keyed by kind, not by position).
    #[test]
    fn every_kind_has_its_own_shader_file() {
        let names: HashSet<&str> = Kind::ALL.iter().map(|k| k.shader().0).collect();
        assert_eq!(names.len(), Kind::ALL.len(), "two kinds share a shader");
        for kind in Kind::ALL {
            let (name, source) = kind.shader();
            let path = format!("{}/shaders/{name}.wgsl", env!("CARGO_MANIFEST_DIR"));
            let on_disk = std::fs::read_to_string(&path).expect("shader file");
            assert_eq!(on_disk, source, "{path}");
            assert!(kind.module_source().ends_with(source), "{name}");
        }
    }

    /// Every shader module parses and validates (catches WGSL mistakes without a GPU).
    #[test]
    fn shaders_validate() {
        for kind in Kind::ALL {
            let mut src = kind.module_source();
            for def in [
                "N_INPUTS",
                "SRGB_MASK",
                "STRAIGHT_MASK",
                "CROP_MASK",
                "LOAD_MASK",
                "PACK_MASK",
                "FINAL",
            ] {
                src = src.replace(&format!("#{{{def}}}"), "3");
            }
            for i in 0..MAX_PASS_INPUTS {
                src = src.replace(&format!("#{{MODE_{i}}}"), "1");
            }
            let module = naga::front::wgsl::parse_str(&src)
                .unwrap_or_else(|e| panic!("{}: {}", kind.shader().0, e.emit_to_string(&src)));
            naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::default(),
            )
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {e:?}", kind.shader().0));
        }
    }
}

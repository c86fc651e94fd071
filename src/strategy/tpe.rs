//! STUB (a helper replaces it).

use serde::{Deserialize, Serialize};

use super::{History, Strategy, Trial};
use crate::value::Params;

/// `[search.tpe]` settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TpeSettings {
    /// Trials drawn from the Sobol design before the model is used.
    #[serde(default)]
    pub n_startup: Option<u64>,
}

impl TpeSettings {
    /// Read `[search.tpe]` (absent: defaults) and check it.
    pub fn from_toml(v: Option<&toml::Value>) -> Result<Self, String> {
        super::settings_from_toml(v)
    }
}

/// STUB strategy: the Sobol design only.
pub struct Tpe {
    pub settings: TpeSettings,
}

impl Tpe {
    pub fn new(settings: TpeSettings) -> Self {
        Tpe { settings }
    }
}

impl Strategy for Tpe {
    fn propose(&self, t: &Trial<'_>, _h: &History<'_>) -> Params {
        t.space.from_unit(&super::sobol::point(
            t.index,
            t.space.params.len(),
            t.search_seed,
        ))
    }

    fn uses_history(&self) -> bool {
        true
    }
}

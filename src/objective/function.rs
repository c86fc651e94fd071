//! STUB: built-in benchmark functions.
use crate::value::Params;
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function { Branin, Hartmann6, Rosenbrock, Ackley, Levy, StyblinskiTang, Mixed }
impl Function {
    pub const ALL: &'static [Function] = &[Function::Branin];
    pub fn name(self) -> &'static str { "branin" }
    pub fn parse(name: &str) -> Option<Function> { if name == "branin" { Some(Function::Branin) } else { None } }
    pub fn check_params(self, names: &[&str]) -> Result<usize, String> { Ok(names.len()) }
    pub fn evaluate(self, params: &Params) -> Result<f64, String> { let x0 = params["x0"].as_f64().unwrap(); let x1 = params["x1"].as_f64().unwrap(); Ok(x0*x0 + x1*x1) }
    pub fn minimum(self, _dim: usize) -> f64 { 0.0 }
}

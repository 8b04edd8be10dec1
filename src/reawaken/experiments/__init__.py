"""reawaken.experiments: the study's experiments as runnable protocols, their claims and the
calibration to them (above :mod:`reawaken.simulate`, which solves them)."""

from reawaken.experiments.calibration import CalibrationResult as CalibrationResult
from reawaken.experiments.calibration import calibrate as calibrate
from reawaken.experiments.calibration import objective_terms as objective_terms
from reawaken.experiments.calibration import write_calibration as write_calibration
from reawaken.experiments.claims import CLAIMS as CLAIMS
from reawaken.experiments.claims import Claim as Claim
from reawaken.experiments.claims import check_claims as check_claims
from reawaken.experiments.outputs import ProtocolOutputs as ProtocolOutputs
from reawaken.experiments.outputs import simulate_protocol as simulate_protocol
from reawaken.experiments.protocols import MOUSE_LUNG as MOUSE_LUNG
from reawaken.experiments.protocols import PROTOCOLS as PROTOCOLS
from reawaken.experiments.protocols import Arm as Arm
from reawaken.experiments.protocols import Protocol as Protocol
from reawaken.experiments.protocols import get_protocol as get_protocol
from reawaken.experiments.run import arm_inputs as arm_inputs
from reawaken.experiments.run import run_clones as run_clones
from reawaken.experiments.run import run_protocol as run_protocol

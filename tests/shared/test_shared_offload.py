import pytest
import torch

from shared.models.offload import apply_plan_to_module, execution_device, torch_dtype
from shared.models.profiles import ComponentPlacement, PlacementPlan


def mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.GELU(), torch.nn.Linear(64, 8))


def test_gpu_plan_degrades_to_cpu_without_cuda():
    plan = PlacementPlan("m", "8gb", device="cuda", dtype="bfloat16", offload="group_block", use_stream=True,
                         fp8_layerwise=True)
    model = apply_plan_to_module(mlp(), plan)
    assert execution_device(plan).type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        assert next(model.parameters()).device.type == "cpu"
        assert next(model.parameters()).dtype == torch.bfloat16
        assert model(torch.randn(2, 64, dtype=torch.bfloat16)).shape == (2, 8)


def test_component_dtype_is_applied():
    plan = PlacementPlan("m", "cpu", components={"head": ComponentPlacement("cpu", "float32")}, dtype="bfloat16")
    assert next(apply_plan_to_module(mlp(), plan, component="head").parameters()).dtype == torch.float32


def test_int8_weight_only_quantization_keeps_outputs_close():
    torchao = pytest.importorskip("torchao")  # a declared dependency; importorskip only gives a clearer failure
    del torchao
    reference = mlp()
    x = torch.randn(4, 64)
    expected = reference(x)
    quantized = apply_plan_to_module(mlp(), PlacementPlan("m", "8gb", quantization="int8_weight_only"))
    assert "Int8" in type(quantized[0].weight).__name__
    assert torch.allclose(quantized(x), expected, atol=5e-2)


def test_unknown_dtype():
    with pytest.raises(ValueError, match="Unknown dtype"):
        torch_dtype("float8")

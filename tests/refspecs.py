"""The spec each entry of tests/reference/torchvision_counts.json is counted with: the bundled
spec of the same name, or, for the entries torchvision builds with other `aux_logits` than the
bundled spec's default, that spec with its `aux_logits` variable set (googlenet ships without
its auxiliary heads, as torchvision's published weights; inception_v3 with, as its default)."""

AUX_LOGITS = {"googlenet_aux": ("googlenet", 1), "inception_v3": ("inception_v3", 0)}
SAME_AS = {"inception_v3_aux": "inception_v3"}  # the bundled default: with AuxLogits


def spec_for(model):
    """A bundled name, or a spec dict extending the bundled spec with aux_logits set."""
    if model in SAME_AS:
        return SAME_AS[model]
    if model in AUX_LOGITS:
        base, aux = AUX_LOGITS[model]
        return {"extends": f"{base}.yaml", "vars": {"aux_logits": aux}}
    return model

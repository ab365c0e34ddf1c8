"""Heat maps placed where they belong: a layer's Grad-CAM or HiResCAM, at its receptive fields' centres.

Plumbing for ``inspect`` and ``classify --heatmap`` and for notebook 09, which
measures whether the maps can be trusted (and which method to favour).
``layer_cam`` computes the sums notebook 05 writes out, for any Sequential or
Functional model, at the layer's own resolution; ``place_on_input`` puts
each value at the centre of its receptive field in the input.
"""

from __future__ import annotations

FAVOURED_METHOD = "hirescam"  # what notebook 09's measurements favour; see its "Which method" section


def _logit_tensor(model):
    """The symbolic logits: the input of a final sigmoid or softmax, else the output; and a layer to add."""
    from keras import layers

    last = model.layers[-1]
    squash = ("sigmoid", "softmax")
    if isinstance(last, layers.Activation) and last.get_config()["activation"] in squash:
        return last.input, None
    if isinstance(last, layers.Dense) and getattr(last.activation, "__name__", None) in squash:
        twin = layers.Dense.from_config(
            {**last.get_config(), "activation": "linear", "name": f"{last.name}_logit"}
        )
        twin.build(last.input.shape)
        twin.set_weights(last.get_weights())
        return last.input, twin
    return model.outputs[0], None


def _maps_and_logits(model, images, layer: str, tape):
    """Run the model's graph layer by layer on ``images``; the tape watches ``layer``'s output.

    Returns (the layer's maps, the logits). Running the graph here, rather than
    calling a two-output model, lets the tape see the maps as the tensor the
    rest of the network reads, in Sequential and Functional models alike.
    """
    from keras import layers

    logits_symbol, twin = _logit_tensor(model)
    values = {id(model.inputs[0]): images}
    maps = None
    for operation in model.layers:
        if isinstance(operation, layers.InputLayer):
            continue
        # A Sequential adds a node each time it is rebuilt: the last one is the graph. Its input is the
        # tensor its first layer reads, not model.inputs.
        node = operation._inbound_nodes[-1]
        for symbol in node.arguments.keras_tensors:
            if isinstance(symbol._keras_history.operation, layers.InputLayer):
                values.setdefault(id(symbol), images)
        args, kwargs = node.arguments.fill_in(values)
        if getattr(operation, "_call_has_training_arg", False):
            kwargs["training"] = False
        produced = operation(*args, **kwargs)
        if operation.name == layer:
            tape.watch(produced)
            maps = produced
        symbols = (
            node.output_tensors if isinstance(node.output_tensors, list | tuple) else [node.output_tensors]
        )
        found = produced if isinstance(produced, list | tuple) else [produced]
        for symbol, value in zip(symbols, found, strict=True):
            values[id(symbol)] = value
    logits = values[id(logits_symbol)]
    return maps, (twin(logits) if twin is not None else logits)


def layer_cam(model, images, class_index: int, method: str = "hirescam", layer: str | None = None):
    """Grad-CAM or HiResCAM maps at the layer's own resolution, for any model (Functional graphs too).

    The sums of notebook 05's ``grad_cam`` (``deconv.cam``), for models that
    function cannot take apart (Functional graphs, several outputs), and
    before any resizing: (images, height, width), positive part, not
    scaled. For one output, class 1's evidence is the logit and class 0's its
    negative; for several, the logit of ``class_index``.
    """
    import numpy as np
    import tensorflow as tf

    from .cam import CAM_METHODS

    if method not in CAM_METHODS:
        raise ValueError(f"method must be one of {CAM_METHODS}, not {method!r}")
    from .inspect import heat_map_layer

    layer = layer or heat_map_layer(model).name
    images = tf.convert_to_tensor(np.asarray(images, dtype="float32"))
    with tf.GradientTape() as tape:
        maps, logits = _maps_and_logits(model, images, layer, tape)
        if logits.shape[-1] == 1:
            evidence = logits[:, 0] if class_index == 1 else -logits[:, 0]
        else:
            evidence = logits[:, class_index]
    gradients = tape.gradient(evidence, maps)
    if method == "grad-cam":
        gradients = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
    return tf.nn.relu(tf.reduce_sum(gradients * maps, axis=-1)).numpy()


def _interpolation(centres, count: int):
    """A (count, len(centres)) matrix: linear interpolation between the centres, held flat beyond them."""
    import numpy as np

    identity = np.eye(len(centres))
    return np.stack([np.interp(np.arange(count), centres, column) for column in identity], axis=1)


def place_on_input(maps, geometry, input_hw):
    """Layer-resolution maps at the input's size, each value at its receptive field's centre.

    Between centres the values are interpolated linearly (bilinear in 2-D);
    beyond the outermost centres they stay flat. A plain resize would instead
    spread the map evenly over the image, shifting it wherever the centres
    are not evenly spread from edge to edge ("valid" convolutions lose a
    border). Returns float32 (maps, height, width).
    """
    import numpy as np

    maps = np.asarray(maps, dtype="float32")
    rows = _interpolation(geometry.centres(0, maps.shape[1]), input_hw[0])
    columns = _interpolation(geometry.centres(1, maps.shape[2]), input_hw[1])
    return np.einsum("ri,nij,cj->nrc", rows, maps, columns).astype("float32")


def scaled(maps):
    """Each map divided by its own peak (empty maps stay 0)."""
    import numpy as np

    maps = np.asarray(maps, dtype="float32")
    peaks = maps.max(axis=(1, 2), keepdims=True)
    return np.divide(maps, peaks, out=np.zeros_like(maps), where=peaks > 0)


def heat_maps(model, images, class_index: int, method: str = FAVOURED_METHOD, layer: str | None = None):
    """Placed, scaled heat maps of ``images`` for one class: (images, height, width) in [0, 1]."""
    from .inspect import heat_map_layer

    chosen = heat_map_layer(model, layer)
    raw = layer_cam(model, images, class_index, method, chosen.name)
    return scaled(place_on_input(raw, chosen.geometry, model.input_shape[1:3]))

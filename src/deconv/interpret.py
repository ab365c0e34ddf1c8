"""Looking inside a trained CNN: receptive fields, feature maps, Grad-CAM and filter visualisation.

Everything here works on any ``keras.Sequential`` built like ``deconv.cnn.build_cnn``
(named layers, an ``Input`` first), trained or not.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReceptiveField:
    """What one output position of a layer sees of the input, along one axis.

    Position ``i`` of the layer's output sees input pixels ``start(i)`` to
    ``start(i) + size - 1``; neighbouring positions are ``jump`` pixels apart.
    """

    layer: str
    kind: str
    kernel: int
    stride: int
    size: int
    jump: int
    output_size: int

    def start(self, position: int) -> int:
        return position * self.jump  # "valid" padding: position 0 starts at pixel 0

    def box(self, row: int, column: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) in input pixels, inclusive, of the output position (row, column)."""
        top, left = self.start(row), self.start(column)
        return top, left, top + self.size - 1, left + self.size - 1


def _window(layer) -> tuple[str, int, int] | None:
    """(kind, kernel, stride) of a layer that slides a window, None for one that keeps positions."""
    from keras import layers

    if isinstance(layer, layers.Conv2D):
        kind, kernel, stride, padding = "conv", layer.kernel_size[0], layer.strides[0], layer.padding
    elif isinstance(layer, layers.MaxPooling2D | layers.AveragePooling2D):
        kind, kernel, stride, padding = "pool", layer.pool_size[0], layer.strides[0], layer.padding
    else:
        return None
    if padding != "valid":
        raise ValueError(f"{layer.name}: only padding='valid' is handled (the tutorial's CNN uses it)")
    return kind, kernel, stride


def receptive_fields(model) -> list[ReceptiveField]:
    """Receptive field of every convolution and pooling layer, by formula.

    Each window of ``k`` positions, ``jump`` input pixels apart, adds
    ``(k - 1) * jump`` pixels to what one position sees; a stride ``s``
    multiplies the distance between neighbouring positions by ``s``.
    """
    size, jump = 1, 1
    width = model.input_shape[1]
    fields = []
    for layer in model.layers:
        window = _window(layer)
        if window is None:
            continue
        kind, kernel, stride = window
        size += (kernel - 1) * jump
        jump *= stride
        width = (width - kernel) // stride + 1
        fields.append(ReceptiveField(layer.name, kind, kernel, stride, size, jump, width))
    return fields


def measured_receptive_field(model, layer_name: str) -> tuple[int, int]:
    """Height and width of the input region that can change one output of ``layer_name``, measured.

    A twin of the model's windows up to that layer, with positive weights, no
    activations and average instead of max pooling, passes a gradient to every
    input pixel its central output depends on, and only to those. The count
    of pixels with a non-zero gradient is the receptive field, whatever the
    formula says.
    """
    import keras
    import numpy as np
    import tensorflow as tf
    from keras import layers

    twin = [keras.Input(shape=model.input_shape[1:])]
    for layer in model.layers:
        window = _window(layer)
        if window is not None:
            kind, kernel, stride = window
            if kind == "conv":
                twin.append(
                    layers.Conv2D(1, kernel, strides=stride, kernel_initializer="ones", use_bias=False)
                )
            else:
                twin.append(layers.AveragePooling2D(kernel, strides=stride))
        if layer.name == layer_name:
            break
    else:
        raise ValueError(f"no layer named {layer_name!r} in {model.name}")
    twin_model = keras.Sequential(twin)
    image = tf.ones((1, *model.input_shape[1:]))
    with tf.GradientTape() as tape:
        tape.watch(image)
        output = twin_model(image)
        centre = output.shape[1] // 2, output.shape[2] // 2
        chosen = output[0, centre[0], centre[1], 0]
    seen = np.abs(tape.gradient(chosen, image).numpy()[0]).sum(axis=-1) > 0
    rows, columns = np.flatnonzero(seen.any(axis=1)), np.flatnonzero(seen.any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(columns[-1] - columns[0] + 1)


def layer_outputs_model(model, layer_names):
    """A model from the CNN's input to the outputs of the named layers (in that order)."""
    import keras

    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs  # a tensor, not a list of one
    return keras.Model(inputs, [model.get_layer(name).output for name in layer_names])


def maximise_filters(
    model,
    layer_name: str,
    filter_indices,
    steps: int = 40,
    step_size: float = 0.1,
    smooth: bool = False,
    seed: int = 0,
):
    """Input images that excite each filter of ``layer_name`` (gradient ascent), one per filter.

    Starts from grey with a little noise and, ``steps`` times, moves every pixel
    along the gradient of the filter's mean activation (normalised, so each
    step has the same size). ``smooth`` blurs the image a little after each
    step, which gives up some activation for patterns a person can read. All
    filters share one batch, so the cost is ``steps`` forward and backward
    passes, whatever the number of filters.
    Returns the images in [0, 1] and each filter's mean activation at the start and at the end.
    """
    import numpy as np
    import tensorflow as tf

    filter_indices = list(filter_indices)
    probe = layer_outputs_model(model, [layer_name])
    picks = tf.one_hot(filter_indices, probe.output_shape[-1])[:, None, None, :]
    rng = np.random.default_rng(seed)
    start = 0.5 + 0.05 * rng.standard_normal((len(filter_indices), *model.input_shape[1:]))
    images = tf.Variable(start.astype("float32"))
    channels = model.input_shape[-1]
    binomial = np.outer([1, 2, 1], [1, 2, 1]) / 16  # a 3x3 blur, one per colour channel
    blur = tf.constant(np.tile(binomial[:, :, None, None], (1, 1, channels, 1)), dtype="float32")

    @tf.function
    def mean_activation_and_gradient():
        with tf.GradientTape() as tape:
            picked = tf.reduce_sum(probe(images, training=False) * picks, axis=-1)
            activation = tf.reduce_mean(picked, axis=(1, 2))
            total = tf.reduce_sum(activation)  # each image's gradient is that of its own filter
        return activation, tape.gradient(total, images)

    first = None
    for _ in range(steps):
        activation, gradient = mean_activation_and_gradient()
        first = activation.numpy() if first is None else first
        scale = tf.sqrt(tf.reduce_mean(tf.square(gradient), axis=(1, 2, 3), keepdims=True)) + 1e-8
        stepped = images + step_size * gradient / scale
        if smooth:
            padded = tf.pad(stepped, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
            stepped = tf.nn.depthwise_conv2d(padded, blur, strides=[1, 1, 1, 1], padding="VALID")
        images.assign(tf.clip_by_value(stepped, 0.0, 1.0))
    last, _ = mean_activation_and_gradient()
    return images.numpy(), first, last.numpy()


def stretch(image):
    """An array scaled to fill [0, 1] (for showing weights or ascended images); constant arrays give 0.5."""
    import numpy as np

    image = np.asarray(image, dtype="float32")
    low, high = image.min(), image.max()
    return np.full_like(image, 0.5) if high == low else (image - low) / (high - low)

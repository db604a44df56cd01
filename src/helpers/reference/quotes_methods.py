"""The papers' sentences about their methods (architectures, the FC layer's training, what the statistics
average over), quoted word for word: part of :data:`helpers.reference.quotes.QUOTES`, in its format
``key: (paper, where, sentence)``."""

METHODS = {
    "architecture__vgg16": (
        "mechanism",
        "Results, 'SRs of progressive layers'; Fig. 1 caption",
        "consisting of 13 convolutional layers (CLs) with ReLU activation function, 5 max-pooling "
        "(MP) operators, 3 fully connected (FC) layers, and 10 output units.",
    ),
    "architecture__no_output_bias": (
        "mechanism",
        "Supplementary, 'Architectures and Training the FC layer'",
        "All three architectures were trained with no biases on the 10 output units. This was done "
        "to assure that each filter’s effect on the output fields will be exemplified and will not "
        "be overshadowed by the much larger biases.",
    ),
    "probe_training": (
        "mechanism",
        "Supplementary, 'Architectures and Training the fully connected layer'",
        "For each examined layer 𝑚, the output of the training set for the 𝑚𝑡ℎ layer was used as a "
        "preprocessed dataset to train the FC layer, using the hyper-parameters 𝜂 = 0.1, 𝜇 = 0.975,"
        " 𝛼 = 1𝑒 − 5, with a learning rate scheduler of 𝑞 = 0.6 every 20 epochs...",
    ),
    "optimizer": (
        "mechanism",
        "Supplementary, 'Optimization' and 'Hyper-parameters'",
        "The cross-entropy cost function was selected for the classification task and was minimized"
        " using the stochastic gradient descent algorithm4,5. ... The Nesterov momentum3 and L2 "
        "regularization method4 were applied.",
    ),
    "averaging__definitions": (
        "mechanism",
        "Supplementary, Fig. 5 description",
        "Panel A, the Av. Noise represents the average noise per filter in that specific layer, ... The Av. "
        "Clusters/Filter is the average number of clusters per filter, this represents the sole number of "
        "clusters regardless of their size that are exhibited in average in each filter.",
    ),
    "averaging__set_mechanism": (
        "mechanism",
        "Supplementary, Fig. 4 description",
        "Left column, the 10 output fields obtained solely from the weights emerging from a single filter "
        "were summed over all 10,000 inputs of the test set, resulting in a 10 × 10 matrix...",
    ),
    "averaging__set_universal_text": (
        "universal",
        "Results of VGG-16 on CIFAR-100",
        "The performance of each filter was calculated using test inputs, with all weights of the "
        "trained FC layer silenced except for those that emerged from the filter.",
    ),
    "averaging__set_universal_fig1": (
        "universal",
        "Figure 1 caption",
        "The matrix elements representing the average output field on an output unit for a specific"
        " input label are calculated using the training dataset.",
    ),
}

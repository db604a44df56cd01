"""The method on tensors: field matrices, clusters, noise, SNR (Eqs. 1-4), AFCC, the K fit, the study."""

"""Stage 1 and the probes' inputs: data, models and their taps, training, cached runs, profiles, FC probes."""

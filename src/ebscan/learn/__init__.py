"""Training and judging models: training sets and training, evaluation, and the
recipe of the pretrained CALNet that ships with ebscan."""

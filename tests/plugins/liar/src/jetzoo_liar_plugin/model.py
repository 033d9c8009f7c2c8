"""jetzoo's constituent RNN, declared permutation invariant: a recurrent network reads the particles in
order, so the contract's shuffled-particles check must fail it."""

from jetzoo.zoo.rnn import ConstituentRNN


class LyingRNN(ConstituentRNN):
    permutation_invariant = True

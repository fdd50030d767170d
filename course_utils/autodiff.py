"""A scalar autograd engine, micrograd-style: the chain rule on a graph of numbers (notebook 05).

Each operation computes its value and, right beside it, the local rule that passes a gradient
back to its inputs. ``backward()`` orders the graph so that every node has received the
gradient of all its uses before it passes its own on (reverse topological order), then runs
those rules:

    ∂L/∂a += ∂L/∂out · ∂out/∂a        for every input a of every node out.

Gradients *accumulate* (``+=``): a value used twice (``r * r``, ``x + x``) gets a contribution
from each use. ``backward()`` first sets every gradient in the graph to 0, so calling it twice
gives the same gradients (micrograd's own ``backward`` adds them up again).

>>> w, b = Value(1.0), Value(0.5)
>>> r = w * 1.4 + b - 2.1
>>> loss = r * r
>>> loss.backward()
>>> round(w.grad, 10), round(b.grad, 10)
(-0.56, -0.4)
"""
from __future__ import annotations

import math
import numbers

__all__ = ["Value"]


def _number(x, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__} {x!r}"[:120])
    return float(x)


class Value:
    """A number that remembers how it was computed.

    Attributes:
        data: the value (a float).
        grad: ∂L/∂(this value) after ``L.backward()``; 0.0 before.
    """

    def __init__(self, data, _children: tuple["Value", ...] = (), _op: str = ""):
        self.data = _number(data, "data")
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    @staticmethod
    def _lift(other) -> "Value":
        return other if isinstance(other, Value) else Value(_number(other, "the other operand"))

    def __add__(self, other) -> "Value":
        other = Value._lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():                       # ∂out/∂self = ∂out/∂other = 1
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other) -> "Value":
        other = Value._lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():                       # ∂out/∂self = other, ∂out/∂other = self
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def tanh(self) -> "Value":
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():                       # tanh'(s) = 1 - tanh(s)²
            self.grad += (1.0 - t * t) * out.grad
        out._backward = _backward
        return out

    def relu(self) -> "Value":
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():                       # relu'(s) = 1 if s > 0 else 0 (0 at s = 0, as torch)
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad
        out._backward = _backward
        return out

    def backward(self) -> None:
        """Fill ``grad`` of every value this one was computed from with ∂self/∂(that value)."""
        order = _topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    # Built from + and *: their gradients follow from the two rules above.
    def __neg__(self) -> "Value":
        return self * -1.0

    def __sub__(self, other) -> "Value":
        return self + (-Value._lift(other))

    def __rsub__(self, other) -> "Value":
        return Value._lift(other) + (-self)

    def __radd__(self, other) -> "Value":
        return self + other

    def __rmul__(self, other) -> "Value":
        return self * other

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"


def _topological_order(root: Value) -> list[Value]:
    """Every value ``root`` depends on, each after all of its inputs (depth-first, no recursion)."""
    order: list[Value] = []
    seen: set[int] = {id(root)}
    stack = [(root, iter(root._prev))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append((child, iter(child._prev)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def random_expression(rng, leaves: list, n_ops: int = 12):
    """A random expression of ``leaves`` with +, *, tanh and relu, reusing earlier results.

    Works the same on ``Value`` leaves and on torch tensors (both have the four operations), so
    a test can build one graph twice and compare the gradients. ``rng`` is a numpy Generator.
    """
    nodes = list(leaves)
    for _ in range(n_ops):
        a = nodes[int(rng.integers(len(nodes)))]
        b = nodes[int(rng.integers(len(nodes)))]
        op = int(rng.integers(5))
        if op == 0:
            nodes.append(a + b)
        elif op == 1:
            nodes.append(a * b)
        elif op == 2:
            nodes.append(a.tanh())
        elif op == 3:
            nodes.append(a.relu())
        else:
            nodes.append(a * b + a)
    out = nodes[-1]
    for node in nodes[len(leaves):-1:3]:      # fold in some earlier results: shared sub-graphs
        out = out + node
    return out

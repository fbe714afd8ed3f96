// Breadth-first search over a small graph, written for the highlighter comparison.
package example.graph;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

public class Graph<N extends Comparable<N>> {
    private final Map<N, Set<N>> edges = new HashMap<>();

    public interface Visitor<N> {
        boolean visit(N node, int depth);
    }

    public enum Direction { FORWARD, BOTH }

    public void addEdge(N from, N to, Direction direction) {
        edges.computeIfAbsent(from, k -> new HashSet<>()).add(to);
        if (direction == Direction.BOTH) {
            edges.computeIfAbsent(to, k -> new HashSet<>()).add(from);
        }
    }

    public int size() {
        return edges.size();
    }

    /** Returns the number of edges on a shortest path, if one exists. */
    public Optional<Integer> distance(N start, N goal) {
        Map<N, Integer> depth = new HashMap<>();
        Deque<N> queue = new ArrayDeque<>();
        depth.put(start, 0);
        queue.add(start);
        while (!queue.isEmpty()) {
            N node = queue.poll();
            int d = depth.get(node);
            if (node.equals(goal)) {
                return Optional.of(d);
            }
            for (N next : edges.getOrDefault(node, Set.of())) {
                if (!depth.containsKey(next)) {
                    depth.put(next, d + 1);
                    queue.add(next);
                }
            }
        }
        return Optional.empty();
    }

    public void walk(N start, Visitor<N> visitor) {
        Set<N> seen = new HashSet<>();
        Deque<Map.Entry<N, Integer>> stack = new ArrayDeque<>();
        stack.push(Map.entry(start, 0));
        while (!stack.isEmpty()) {
            var entry = stack.pop();
            if (!seen.add(entry.getKey()) || !visitor.visit(entry.getKey(), entry.getValue())) {
                continue;
            }
            for (N next : edges.getOrDefault(entry.getKey(), Set.of())) {
                stack.push(Map.entry(next, entry.getValue() + 1));
            }
        }
    }

    public static void main(String[] args) throws Exception {
        Graph<String> graph = new Graph<>();
        List<String> names = List.of("a", "b", "c", "d");
        for (int i = 0; i + 1 < names.size(); i++) {
            graph.addEdge(names.get(i), names.get(i + 1), Direction.BOTH);
        }
        long hops = graph.distance("a", "d").orElse(-1);
        final double ratio = hops / (double) graph.size();
        System.out.printf("hops=%d ratio=%.2f%n", hops, ratio);
        graph.walk("a", (node, depth) -> {
            System.out.println("  ".repeat(depth) + node);
            return depth < 2;
        });
    }
}

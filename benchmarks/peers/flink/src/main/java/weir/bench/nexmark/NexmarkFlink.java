package weir.bench.nexmark;
public class NexmarkFlink { public static void main(String[] a) { System.out.println("hi"); } }

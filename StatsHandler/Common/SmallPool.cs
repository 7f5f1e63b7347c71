namespace StatsHandler;

/// <summary>
/// A few reusable objects kept by one owner (a handler, a server) so the request path allocates nothing in steady
/// state. Bounded: what does not fit is left to the GC (or disposed by the caller).
/// </summary>
internal sealed class SmallPool<T>(int capacity)
    where T : class
{
    private readonly Lock _lock = new();
    private readonly T?[] _items = new T?[capacity];
    private int _count;

    /// <summary>Takes an item, or null when the pool is empty.</summary>
    public T? TryRent()
    {
        lock (_lock)
        {
            if (_count == 0)
            {
                return null;
            }

            T item = _items[--_count]!;
            _items[_count] = null;
            return item;
        }
    }

    /// <summary>Keeps <paramref name="item"/> for later; false when the pool is full.</summary>
    public bool TryReturn(T item)
    {
        lock (_lock)
        {
            if (_count == _items.Length)
            {
                return false;
            }

            _items[_count++] = item;
            return true;
        }
    }

    /// <summary>Empties the pool, handing each item to <paramref name="release"/>.</summary>
    public void Drain(Action<T> release)
    {
        while (TryRent() is { } item)
        {
            release(item);
        }
    }
}

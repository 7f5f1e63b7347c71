namespace StatsHandler.Tests;

public class TagSetTests
{
    [Test]
    public void A_hint_never_changes_the_hash_whatever_instances_order_or_types_the_tags_use()
    {
        string method = "GET";
        string route = "/orders/{id}";
        KeyValuePair<string, object?>[] first = [new("method", method), new("route", route), new("status", 200)];
        TagSet set = TagSet.Create(first, TagSet.HashOf(first));
        TagHints hint = TagHints.Empty.With(first);
        string copy = new(method.AsSpan());
        KeyValuePair<string, object?>[][] spans =
        [
            first,
            [new("method", copy), new("route", route), new("status", 200)],
            [new("status", "200"), new("route", route), new("method", method)],
            [new(new string("method".AsSpan()), method), new("route", "/other"), new("status", 404)],
            [new("method", method), new("route", route), new("status", 200L)],
            [new("method", null), new("route", route), new("extra", true)],
        ];

        foreach (KeyValuePair<string, object?>[] tags in spans)
        {
            TagSet.HashOfDistinct(tags, hint).Should().Be(TagSet.HashOfDistinct(tags), string.Join(",", tags));
            TagSet.HashOfDistinct(tags).Should().Be(TagSet.HashOf(tags), "the hot path's hash is the set's hash");
        }

        TagSet.HashOfDistinct(spans[2], hint).Should().Be(set.Hash, "the same set in another order and with 200 as text");
        TagSet.HashOfDistinct(spans[3], hint).Should().NotBe(set.Hash);
    }

    [Test]
    public void Hints_from_twenty_rotating_series_with_boxed_ints_give_the_sets_own_hashes()
    {
        string[] routes = ["/api/orders/{id}", "/api/orders", "/api/users/{id}", "/health", "/api/cart"];
        int[] codes = [200, 404, 500, 302];
        TagHints hints = TagHints.Empty;
        for (int i = 0; i < 40; i++)
        {
            KeyValuePair<string, object?>[] tags = [new("method", "GET"), new("route", routes[i % 5]), new("status", codes[i & 3])];
            TagSet.HashOfDistinct(tags, hints).Should().Be(TagSet.HashOf(tags), "hints seen so far: {0}", i);
            hints = hints.With(tags);
        }

        KeyValuePair<string, object?>[] asText = [new("method", "GET"), new("route", new string(routes[0].AsSpan())), new("status", "200")];
        TagSet.HashOfDistinct(asText, hints).Should().Be(TagSet.HashOf(asText), "a copy of a known string and a number as text");
    }
}

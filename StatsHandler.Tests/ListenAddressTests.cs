namespace StatsHandler.Tests;

public class ListenAddressTests
{
    [TestCase(":8080", "+", 8080, "AllInterfaces")]
    [TestCase("0.0.0.0:8080", "+", 8080, "AllInterfaces")]
    [TestCase("*:8080", "+", 8080, "AllInterfaces")]
    [TestCase("+:8080", "+", 8080, "AllInterfaces")]
    [TestCase("localhost:8080", "localhost", 8080, "Loopback")]
    [TestCase("LocalHost:1", "localhost", 1, "Loopback")]
    [TestCase("127.0.0.1:0", "127.0.0.1", 0, "Loopback")]
    [TestCase("[::1]:8080", "[::1]", 8080, "LoopbackIPv6")]
    [TestCase("myhost:65535", "myhost", 65535, "Host")]
    [TestCase("10.1.2.3:80", "10.1.2.3", 80, "Host")]
    public void Accepted_forms_parse_to_host_port_and_scope(string text, string host, int port, string scope)
    {
        ListenAddress address = ListenAddress.Parse(text);

        address.Host.Should().Be(host);
        address.Port.Should().Be(port);
        address.Scope.ToString().Should().Be(scope);
    }

    [TestCase("")]
    [TestCase("8080")]
    [TestCase(":99999")]
    [TestCase(":-1")]
    [TestCase(":")]
    [TestCase("localhost:abc")]
    [TestCase("http://localhost:8080")]
    [TestCase("localhost:8080/api")]
    [TestCase("::1:8080")]
    [TestCase("[::1]8080")]
    [TestCase("[fe80::1]:8080")]
    [TestCase("1.2.3:80")]
    [TestCase("bad host:80")]
    public void Anything_else_throws_naming_the_value_and_the_accepted_forms(string text)
    {
        Action parse = () => ListenAddress.Parse(text);

        parse.Should().Throw<ArgumentException>()
            .Which.Message.Should().Contain($"'{text}'").And.Contain("'localhost:8080'").And.Contain("port 0");
    }

    [Test]
    public void A_port_alone_is_told_to_write_a_colon_before_it()
    {
        Action parse = () => ListenAddress.Parse("8080");

        parse.Should().Throw<ArgumentException>().WithMessage(
            "Invalid address '8080': the host is missing: write ':8080' for port 8080 on all interfaces, or 'localhost:8080' for loopback only.*");
    }

    [Test]
    public async Task The_all_interface_spellings_serve_like_a_colon_and_port()
    {
        foreach (string host in new[] { "", "0.0.0.0", "*", "+" })
        {
            await using StatsServer server = await Support.TestServers.StartAsync(s => s.Handle("/api/stats"), $"{host}:0");
            using HttpClient client = new() { Timeout = Support.TestServers.Bound };
            using HttpResponseMessage response = await client.GetAsync($"http://127.0.0.1:{server.Url.Port}/api/stats");
            response.StatusCode.Should().Be(System.Net.HttpStatusCode.OK, $"'{host}:0' listens on all interfaces, loopback included");
        }
    }

    [Test]
    public void The_server_constructor_rejects_a_bad_address_with_the_same_message()
    {
        Action create = () => _ = new StatsServer(":99999");

        create.Should().Throw<ArgumentException>()
            .WithMessage("Invalid address ':99999': port '99999' must be 1-65535, or 0 for any free port.*")
            .And.ParamName.Should().Be("address");
    }

    [Test]
    public void A_loopback_address_registers_both_loopback_names()
    {
        ListenAddress.Parse("localhost:1").PrefixHosts().Should().Equal("localhost", "127.0.0.1");
        ListenAddress.Parse("127.0.0.1:1").PrefixHosts().Should().Equal("127.0.0.1", "localhost");
        ListenAddress.Parse(":1").PrefixHosts().Should().Equal("+");
    }

    [Test]
    public void A_free_port_is_found_for_port_zero()
    {
        int port = ListenAddress.Parse("127.0.0.1:0").FindFreePort();

        port.Should().BeInRange(1, 65535);
    }
}

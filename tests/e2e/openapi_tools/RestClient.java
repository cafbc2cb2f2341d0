// A client of the served OpenAPI document through the Java client openapi-generator wrote
// from it (library `native`: java.net.http and Jackson): register, sign in, read yourself,
// and one refused request. It prints one JSON line.
// Run as `java RestClient <base URL> <email>` with the generated classes on the class path.
import com.acme.rest.ApiClient;
import com.acme.rest.ApiException;
import com.acme.rest.api.AuthServiceApi;
import com.acme.rest.api.UserServiceApi;
import com.acme.rest.model.AcmeAuthV1LoginRequest;
import com.acme.rest.model.AcmeAuthV1TokenPair;
import com.acme.rest.model.AcmeUserV1CreateUserRequest;
import com.acme.rest.model.AcmeUserV1User;
import com.acme.rest.model.Problem;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public final class RestClient {
  private RestClient() {}

  public static void main(String[] args) throws Exception {
    String email = args[1];
    String password = "correct horse battery";
    ApiClient client = new ApiClient();
    client.updateBaseUri(args[0]);
    UserServiceApi users = new UserServiceApi(client);
    AuthServiceApi auth = new AuthServiceApi(client);

    AcmeUserV1User created = users.acmeUserV1UserServiceCreateUser(
        new AcmeUserV1CreateUserRequest().email(email).displayName("Ada").password(password));
    AcmeAuthV1TokenPair tokens = auth.acmeAuthV1AuthServiceLogin(
        new AcmeAuthV1LoginRequest().email(email).password(password));
    // An API object takes its client's request interceptor when it is made.
    client.setRequestInterceptor(
        request -> request.header("Authorization", "Bearer " + tokens.getAccessToken()));
    AcmeUserV1User read = new UserServiceApi(client).acmeUserV1UserServiceGetUser(created.getId());

    int status = 0;
    List<String> violations = List.of();
    try {
      users.acmeUserV1UserServiceCreateUser(
          new AcmeUserV1CreateUserRequest().email(email).displayName("").password(password));
    } catch (ApiException refused) {
      status = refused.getCode();
      Problem problem = client.getObjectMapper().readValue(refused.getResponseBody(), Problem.class);
      violations = problem.getViolations().stream().map(v -> v.getField() + "/" + v.getRule()).toList();
    }

    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", String.valueOf(read.getId()));
    out.put("displayName", read.getDisplayName());
    out.put("status", status);
    out.put("violations", violations);
    System.out.println(client.getObjectMapper().writeValueAsString(out));
  }
}

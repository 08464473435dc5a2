// DestroyGuard: lets a method that calls out (to a listener) learn whether that call
// destroyed its own object, so it stops touching `this`.
//
//   DestroyGuard::Scope scope(&guard_);
//   listener_->OnSomething();            // may delete this object
//   if (scope.destroyed()) return;
//
// Scopes nest (a scope opened while another is open on the same object); the guard's
// destructor marks every open one. Same thread only, like the object it guards.
#ifndef NCM_REDIS_DESTROY_GUARD_H_
#define NCM_REDIS_DESTROY_GUARD_H_

namespace ncm::redis {

class DestroyGuard {
 public:
  class Scope {
   public:
    explicit Scope(DestroyGuard* guard) : guard_(guard), outer_(guard->innermost_) {
      guard->innermost_ = this;
    }
    ~Scope() {
      if (!destroyed_) guard_->innermost_ = outer_;
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

    bool destroyed() const { return destroyed_; }

   private:
    friend class DestroyGuard;
    DestroyGuard* guard_;
    Scope* outer_;
    bool destroyed_ = false;
  };

  DestroyGuard() = default;
  ~DestroyGuard() {
    for (Scope* scope = innermost_; scope != nullptr; scope = scope->outer_) {
      scope->destroyed_ = true;
    }
  }
  DestroyGuard(const DestroyGuard&) = delete;
  DestroyGuard& operator=(const DestroyGuard&) = delete;

 private:
  Scope* innermost_ = nullptr;
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_DESTROY_GUARD_H_
